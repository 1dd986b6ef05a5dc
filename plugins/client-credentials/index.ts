/** The `client-credentials` plugin's public surface. */
import type { PluginModule } from '../../core/plugin-api.js';
import { PLUGINS } from '../../core/plugin-api.js';
import { ClientCredentialsPlugin } from './plugin.js';

export { ClientCredentialsPlugin, METADATA_PATH, grantedScope } from './plugin.js';
export { ClientCredentialsConfigSchema, type ClientCredentialsConfig } from './schema.js';

export const clientCredentialsPlugin: PluginModule = {
  register(container) {
    container.register(PLUGINS, { useClass: ClientCredentialsPlugin });
  },
};
