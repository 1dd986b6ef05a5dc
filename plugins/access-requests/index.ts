/**
 * The `access-requests` module's public surface: authorization profiles, access requests with
 * their state machine and audit trail, and webhooks. It adds no request-path plugin: it owns
 * entities and admin endpoints, and writes API keys through the EntityService (the `apikeys`
 * plugin must be loaded).
 */
import type { PluginModule } from '../../core/plugin-api.js';
import { ADMIN_EXTENSIONS, EntityRegistry, EntityService } from '../../core/plugin-api.js';
import { ACCESS_REQUEST_KIND, APIKEYS, PROFILE_KIND, profileHooks } from './entity.js';
import { AccessRequestsAdmin } from './api.js';
import { AccessRequestService } from './service.js';
import { WebhookDispatcher } from './webhooks.js';

export { PROFILE_KIND, ACCESS_REQUEST_KIND, type AuthorizationProfile, type AccessRequest } from './entity.js';
export { signature } from './webhooks.js';

export const accessRequestsModule: PluginModule = {
  register(container) {
    const registry = container.resolve(EntityRegistry);
    registry.register(PROFILE_KIND);
    registry.register(ACCESS_REQUEST_KIND);
    container.registerSingleton(WebhookDispatcher);
    container.registerSingleton(AccessRequestService);
    container.register(ADMIN_EXTENSIONS, { useClass: AccessRequestsAdmin });
  },
  async init(container) {
    if (!container.resolve(EntityRegistry).has(APIKEYS))
      throw new Error('The access-requests module needs the apikeys plugin: it creates an API key per request');
    container.resolve(EntityService).addHooks(PROFILE_KIND, profileHooks());
    await container.resolve(WebhookDispatcher).start();
  },
  async close(container) {
    await container.resolve(WebhookDispatcher).close();
  },
};
