/** The `oauth2` plugin's public surface. */
import type { PluginModule } from '../../core/plugin-api.js';
import { PLUGINS } from '../../core/plugin-api.js';
import { OAuth2Plugin } from './plugin.js';

export { OAuth2Plugin } from './plugin.js';
export { OAuth2ConfigSchema, type OAuth2Config } from './schema.js';
export { GrantStore, tokenHash, CODE_TTL_MS, NAMESPACE as OAUTH2_STATE_NAMESPACE } from './grant-store.js';

export const oauth2Plugin: PluginModule = {
  register(container) {
    container.register(PLUGINS, { useClass: OAuth2Plugin });
  },
};
