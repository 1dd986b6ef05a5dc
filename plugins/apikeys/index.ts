/** The `apikeys` plugin's public surface: the entity, its admin endpoints and the plugin. */
import type { PluginModule } from '../../core/plugin-api.js';
import { ADMIN_EXTENSIONS, PLUGINS, STORE } from '../../core/plugin-api.js';
import { EntityRegistry, ROUTES } from '../../core/plugin-api.js';
import { EntityService } from '../../core/plugin-api.js';
import type { Store } from '../../core/plugin-api.js';
import { ApiKeysPlugin } from './plugin.js';
import { ApiKeysAdmin } from './api.js';
import { ApiKeyIndex } from './key-index.js';
import { QuotaCounters } from './quotas.js';
import { APIKEY_KIND, APIKEYS, apiKeyHooks, type ApiKey } from './entity.js';
import { JWT_SIGN_KEYPAIR } from '../../core/plugin-api.js';
import { addKeyPairReferences, KEYPAIRS } from '../../core/plugin-api.js';
import { CLIENT_DIRECTORY } from '../../core/plugin-api.js';

export { ApiKeysPlugin } from './plugin.js';
export { ApiKeyIndex, type IndexedKey } from './key-index.js';
export { APIKEYS, APIKEY_KIND, type ApiKey } from './entity.js';
export { ApiKeysConfigSchema, type ApiKeysConfig } from './schema.js';

export const apikeysPlugin: PluginModule = {
  register(container) {
    container.resolve(EntityRegistry).register(APIKEY_KIND);
    container.registerSingleton(ApiKeyIndex);
    container.register(CLIENT_DIRECTORY, { useToken: ApiKeyIndex });
    container.registerSingleton(QuotaCounters);
    container.register(PLUGINS, { useClass: ApiKeysPlugin });
    container.register(ADMIN_EXTENSIONS, { useClass: ApiKeysAdmin });
  },
  init(container) {
    const store = container.resolve<Store>(STORE);
    container.resolve(EntityService).addHooks(APIKEYS, apiKeyHooks((key, ctx) => {
      if (ctx.importing) return []; // routes and key pairs may arrive in the same import
      const problems = (key.authorizedEntities ?? []).flatMap((entity, i) =>
        entity.startsWith('tag:') || store.get(ROUTES.name, entity) ? [] : [{ path: `/authorizedEntities/${i}`, message: `No route with id "${entity}" (use tag:<name> for groups of routes)` }]);
      const keyPair = key.metadata?.[JWT_SIGN_KEYPAIR];
      if (keyPair !== undefined && !store.get(KEYPAIRS, keyPair)) problems.push({ path: `/metadata/${JWT_SIGN_KEYPAIR}`, message: `No key pair "${keyPair}"` });
      return problems;
    }));
    addKeyPairReferences(container, (id) => (store.list(APIKEYS) as ApiKey[])
      .filter((k) => k.metadata?.[JWT_SIGN_KEYPAIR] === id)
      .slice(0, 5)
      .map((k) => ({ path: '/', message: `it signs the tokens of API key "${k.clientId}" (metadata ${JWT_SIGN_KEYPAIR})` })));
    container.resolve(ApiKeyIndex).start();
    const quotas = container.resolve(QuotaCounters);
    store.onChange((event) => { if (event.op === 'delete' && event.kind === APIKEYS) quotas.forget(event.id); });
  },
  close(container) {
    container.resolve(ApiKeyIndex).stop();
  },
};
