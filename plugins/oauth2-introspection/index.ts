/** The `oauth2-introspection` plugin's public surface. */
import { PLUGIN_API_VERSION, type PluginModule } from '../../core/plugin-api.js';
import { OAuth2IntrospectionPlugin } from './plugin.js';

export { OAuth2IntrospectionPlugin } from './plugin.js';
export { OAuth2IntrospectionConfigSchema, type OAuth2IntrospectionConfig } from './schema.js';
export { NAMESPACE as INTROSPECTION_STATE_NAMESPACE } from './response-cache.js';

export const oauth2IntrospectionPlugin: PluginModule = {
  id: 'oauth2-introspection',
  apiVersion: PLUGIN_API_VERSION,
  register(host) {
    host.plugins.add(() => new OAuth2IntrospectionPlugin(host.state, host.keys.epoch, host.logger));
  },
};
