/** The `oauth2` plugin's public surface. */
import type { PluginModule } from '../../core/plugin-api.js';
import { ADMIN_EXTENSIONS, PLUGINS } from '../../core/plugin-api.js';
import { OAuth2Plugin } from './plugin.js';
import { OAuth2Admin } from './api.js';
import { OAuth2ProvisionKeyAdmin } from './provision-key.js';

export { OAuth2Plugin } from './plugin.js';
export { OAuth2ConfigSchema, type OAuth2Config } from './schema.js';
export { OAuth2Admin } from './api.js';
export {
  GrantStore,
  tokenHash,
  type GrantView,
  CODE_TTL_MS,
  NAMESPACE as OAUTH2_STATE_NAMESPACE,
} from './grant-store.js';

export const oauth2Plugin: PluginModule = {
  register(container) {
    container.register(PLUGINS, { useClass: OAuth2Plugin });
    container.register(ADMIN_EXTENSIONS, { useClass: OAuth2Admin });
    container.register(ADMIN_EXTENSIONS, { useClass: OAuth2ProvisionKeyAdmin });
  },
};
