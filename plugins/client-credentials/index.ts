/** The `client-credentials` plugin's public surface. */
import type { PluginModule } from '../../core/plugin-api.js';
import { PLUGINS, STORE } from '../../core/plugin-api.js';
import { GLOBAL_CONFIG, GLOBAL_CONFIG_ID, type GlobalConfig } from '../../core/plugin-api.js';
import { addKeyPairReferences } from '../../core/plugin-api.js';
import type { Store } from '../../core/plugin-api.js';
import { ClientCredentialsPlugin } from './plugin.js';

export { ClientCredentialsPlugin, METADATA_PATH, grantedScope } from './plugin.js';
export { ClientCredentialsConfigSchema, type ClientCredentialsConfig } from './schema.js';

export const clientCredentialsPlugin: PluginModule = {
  register(container) {
    container.register(PLUGINS, { useClass: ClientCredentialsPlugin });
  },
  init(container) {
    const store = container.resolve<Store>(STORE);
    addKeyPairReferences(container, (id) => {
      const global = store.get(GLOBAL_CONFIG.name, GLOBAL_CONFIG_ID) as GlobalConfig | undefined;
      return (global?.plugins ?? [])
        .filter((p) => p.plugin === 'client-credentials' && ((p.config as { defaultKeyPair?: string }).defaultKeyPair ?? 'portcullis-jwt-signing') === id)
        .map(() => ({ path: '/', message: 'it is the defaultKeyPair of the client-credentials plugin in the global configuration' }));
    });
  },
};
