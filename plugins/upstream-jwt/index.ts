/** The `upstream-jwt` plugin's public surface. */
import type { PluginModule } from '../../core/plugin-api.js';
import { PLUGINS } from '../../core/plugin-api.js';
import { UpstreamJwtPlugin } from './plugin.js';

export { UpstreamJwtPlugin } from './plugin.js';
export { UpstreamJwtConfigSchema, DEFAULT_UPSTREAM_JWT_HEADER, type UpstreamJwtConfig } from './schema.js';

export const upstreamJwtPlugin: PluginModule = {
  register(container) {
    container.register(PLUGINS, { useClass: UpstreamJwtPlugin });
  },
};
