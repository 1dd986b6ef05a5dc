/** The `oauth2` plugin's public surface. */
import { CLIENT_DIRECTORY, PLUGIN_API_VERSION, type PluginModule } from '../../core/plugin-api.js';
import { OAuth2Plugin } from './plugin.js';
import { OAuth2Admin } from './api.js';
import { provisionKeyRoutes } from './provision-key.js';

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
  id: 'oauth2',
  apiVersion: PLUGIN_API_VERSION,
  register(host) {
    const { keys } = host;
    host.plugins.add(
      () =>
        new OAuth2Plugin(
          host.use(CLIENT_DIRECTORY),
          host.state,
          keys.revocations,
          keys.signing,
          keys.epoch,
          host.logger,
          host.metrics,
          host.config,
        ),
    );
    host.admin.routes(() =>
      new OAuth2Admin(host.state, keys.revocations, keys.epoch, host.use(CLIENT_DIRECTORY)).routes(),
    );
    host.admin.routes(() => provisionKeyRoutes(host.entities));
  },
};
