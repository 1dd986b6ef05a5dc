/** The `ip-restriction` plugin's public surface. */
import type { PluginModule } from '../../core/plugin-api.js';
import { PLUGINS } from '../../core/plugin-api.js';
import { IpRestrictionPlugin } from './plugin.js';

export { IpRestrictionPlugin } from './plugin.js';
export { IpRestrictionConfigSchema, type IpRestrictionConfig } from './schema.js';

export const ipRestrictionPlugin: PluginModule = {
  register(container) {
    container.register(PLUGINS, { useClass: IpRestrictionPlugin });
  },
};
