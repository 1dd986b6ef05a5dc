/** The `headers` plugin's public surface. */
import type { PluginModule } from '../../core/plugin-api.js';
import { PLUGINS } from '../../core/plugin-api.js';
import { HeadersPlugin } from './plugin.js';

export { HeadersPlugin } from './plugin.js';
export { HeadersConfigSchema, type HeadersConfig } from './schema.js';

export const headersPlugin: PluginModule = {
  register(container) {
    container.register(PLUGINS, { useClass: HeadersPlugin });
  },
};
