/** The `headers` plugin's public surface. */
import type { PluginModule } from '../../core/gateway.js';
import { PLUGINS } from '../../core/tokens.js';
import { HeadersPlugin } from './plugin.js';

export { HeadersPlugin } from './plugin.js';
export { HeadersConfigSchema, type HeadersConfig } from './schema.js';

export const headersPlugin: PluginModule = {
  register(container) {
    container.register(PLUGINS, { useClass: HeadersPlugin });
  },
};
