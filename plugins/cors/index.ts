/** The `cors` plugin's public surface. */
import { PLUGIN_API_VERSION, type PluginModule } from '../../core/plugin-api.js';
import { CorsPlugin } from './plugin.js';

export { CorsPlugin } from './plugin.js';
export { CorsConfigSchema, type CorsConfig } from './schema.js';

export const corsPlugin: PluginModule = {
  id: 'cors',
  apiVersion: PLUGIN_API_VERSION,
  register(host) {
    host.plugins.add(new CorsPlugin());
  },
};
