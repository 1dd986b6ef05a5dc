/** The `cors` plugin's public surface. */
import type { PluginModule } from '../../core/gateway.js';
import { PLUGINS } from '../../core/tokens.js';
import { CorsPlugin } from './plugin.js';

export { CorsPlugin } from './plugin.js';
export { CorsConfigSchema, type CorsConfig } from './schema.js';

export const corsPlugin: PluginModule = {
  register(container) {
    container.register(PLUGINS, { useClass: CorsPlugin });
  },
};
