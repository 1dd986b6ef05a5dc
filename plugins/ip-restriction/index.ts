/** The `ip-restriction` plugin's public surface. */
import { PLUGIN_API_VERSION, type PluginModule } from '../../core/plugin-api.js';
import { IpRestrictionPlugin } from './plugin.js';

export { IpRestrictionPlugin } from './plugin.js';
export { IpRestrictionConfigSchema, type IpRestrictionConfig } from './schema.js';

export const ipRestrictionPlugin: PluginModule = {
  id: 'ip-restriction',
  apiVersion: PLUGIN_API_VERSION,
  register(host) {
    host.plugins.add(new IpRestrictionPlugin());
  },
};
