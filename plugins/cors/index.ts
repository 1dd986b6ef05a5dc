/** The `cors` plugin's public surface. */
import type { PluginModule } from '../../core/plugin-api.js';
import { PLUGINS } from '../../core/plugin-api.js';
import { CorsPlugin } from './plugin.js';

export { CorsPlugin } from './plugin.js';
export { CorsConfigSchema, type CorsConfig } from './schema.js';

export const corsPlugin: PluginModule = {
  register(container) {
    container.register(PLUGINS, { useClass: CorsPlugin });
  },
};
