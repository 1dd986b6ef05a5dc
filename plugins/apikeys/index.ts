/** The `apikeys` plugin's public surface: the entity, its admin endpoints and the plugin. */
import { API_KEY_ISSUER, CLIENT_DIRECTORY, PLUGIN_API_VERSION, type PluginModule } from '../../core/plugin-api.js';
import { ApiKeysPlugin } from './plugin.js';
import { apiKeyRoutes } from './api.js';
import { apiKeyIssuer } from './issuer.js';
import { ApiKeyIndex } from './key-index.js';
import { QUOTA_SERVICE, QuotaService } from './quotas.js';
import { APIKEY_KIND, apiKeyHooks } from './entity.js';

export { ApiKeysPlugin } from './plugin.js';
export { ApiKeyIndex, API_KEY_INDEX, type IndexedKey } from './key-index.js';
export { APIKEYS, APIKEY_KIND, type ApiKey } from './entity.js';
export { ApiKeysConfigSchema, type ApiKeysConfig } from './schema.js';
export { QuotaService, QUOTA_SERVICE, type OnStateError } from './quotas.js';

/**
 * Provides the client directory (to the token services) and the API key issuer (to
 * `access-requests`); references (authorized routes, the signing key pair) are declared on APIKEY_KIND.
 */
export const apikeysPlugin: PluginModule = {
  id: 'apikeys',
  apiVersion: PLUGIN_API_VERSION,
  register(host) {
    const keys = host.entities.define(APIKEY_KIND);
    keys.hooks(apiKeyHooks());
    const index = new ApiKeyIndex();
    host.provide(CLIENT_DIRECTORY, index);
    host.provide(API_KEY_ISSUER, apiKeyIssuer(keys));
    const quotas = new QuotaService(host.state, host.logger);
    host.provide(QUOTA_SERVICE, quotas);
    host.plugins.add(() => new ApiKeysPlugin(index, quotas, host.keys.signing, host.keys.revocations));
    host.admin.routes(() => apiKeyRoutes(keys, host.entities.routes, host.keys.revocations));
  },
};
