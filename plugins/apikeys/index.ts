/** The `apikeys` plugin's public surface: the entity, its admin endpoints and the plugin. */
import type { PluginModule } from '../../core/plugin-api.js';
import { ADMIN_EXTENSIONS, PLUGINS, EntityRegistry, EntityService, CLIENT_DIRECTORY } from '../../core/plugin-api.js';
import { ApiKeysPlugin } from './plugin.js';
import { ApiKeysAdmin } from './api.js';
import { ApiKeyIndex } from './key-index.js';
import { QuotaService } from './quotas.js';
import { APIKEY_KIND, apiKeyHooks } from './entity.js';

export { ApiKeysPlugin } from './plugin.js';
export { ApiKeyIndex, API_KEY_INDEX, type IndexedKey } from './key-index.js';
export { APIKEYS, APIKEY_KIND, type ApiKey } from './entity.js';
export { ApiKeysConfigSchema, type ApiKeysConfig } from './schema.js';
export { QuotaService, type OnStateError } from './quotas.js';

export const apikeysPlugin: PluginModule = {
  register(container) {
    container.resolve(EntityRegistry).register(APIKEY_KIND);
    container.registerSingleton(ApiKeyIndex);
    container.register(CLIENT_DIRECTORY, { useToken: ApiKeyIndex });
    container.registerSingleton(QuotaService);
    container.register(PLUGINS, { useClass: ApiKeysPlugin });
    container.register(ADMIN_EXTENSIONS, { useClass: ApiKeysAdmin });
  },
  init(container) {
    // References (authorized routes, the signing key pair) are declared on APIKEY_KIND.
    container.resolve(EntityService).addHooks(APIKEY_KIND, apiKeyHooks());
  },
};
