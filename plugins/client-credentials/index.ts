/** The `client-credentials` plugin's public surface. */
import { CLIENT_DIRECTORY, PLUGIN_API_VERSION, type PluginModule } from '../../core/plugin-api.js';
import { ClientCredentialsPlugin } from './plugin.js';

export { ClientCredentialsPlugin, METADATA_PATH, grantedScope } from './plugin.js';
export { ClientCredentialsConfigSchema, type ClientCredentialsConfig } from './schema.js';

export const clientCredentialsPlugin: PluginModule = {
  id: 'client-credentials',
  apiVersion: PLUGIN_API_VERSION,
  register(host) {
    host.plugins.add(
      () =>
        new ClientCredentialsPlugin(
          host.keys.signing,
          host.use(CLIENT_DIRECTORY),
          host.keys.revocations,
          host.config,
          host.state,
          host.logger,
          host.metrics,
        ),
    );
  },
};
