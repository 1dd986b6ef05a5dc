/** The `oauth2-introspection` plugin's public surface. */
import type { PluginModule } from '../../core/plugin-api.js';
import { PLUGINS } from '../../core/plugin-api.js';
import { OAuth2IntrospectionPlugin } from './plugin.js';

export { OAuth2IntrospectionPlugin } from './plugin.js';
export { OAuth2IntrospectionConfigSchema, type OAuth2IntrospectionConfig } from './schema.js';
export { NAMESPACE as INTROSPECTION_STATE_NAMESPACE } from './response-cache.js';

export const oauth2IntrospectionPlugin: PluginModule = {
  register(container) {
    container.register(PLUGINS, { useClass: OAuth2IntrospectionPlugin });
  },
};
