/** The `headers` plugin's public surface. */
import { PLUGIN_API_VERSION, type PluginModule } from '../../core/plugin-api.js';
import { HeadersPlugin } from './plugin.js';

export { HeadersPlugin } from './plugin.js';
export { HeadersConfigSchema, type HeadersConfig } from './schema.js';

export const headersPlugin: PluginModule = {
  id: 'headers',
  apiVersion: PLUGIN_API_VERSION,
  register(host) {
    host.plugins.add(new HeadersPlugin());
  },
};
