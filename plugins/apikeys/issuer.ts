/**
 * The `ApiKeyIssuer` service `apikeys` provides (`API_KEY_ISSUER`): keys created and changed on
 * another module's behalf (an access request's key), through the kind's write path like an admin
 * write (validation, secret hashing, references).
 */
import type { ApiKeyAccess, ApiKeyIssuer, EntityHandle, NewApiKey } from '../../core/plugin-api.js';
import type { ApiKey } from './entity.js';

export function apiKeyIssuer(keys: EntityHandle<ApiKey>): ApiKeyIssuer {
  return {
    async issue(key: NewApiKey) {
      return (await keys.create(key)).clientId;
    },
    async grant(clientId: string, access: ApiKeyAccess) {
      const key = keys.get(clientId);
      await keys.update(clientId, { ...key, version: key.version, enabled: true, ...access });
    },
    async disable(clientId: string) {
      const key = keys.get(clientId);
      if (key.enabled !== false) await keys.update(clientId, { ...key, version: key.version, enabled: false });
    },
    delete: (clientId) => keys.delete(clientId),
  };
}
