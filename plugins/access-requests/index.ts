/**
 * The `access-requests` module's public surface: authorization profiles, access requests with
 * their state machine and audit trail, and webhooks. It adds no request-path plugin: it owns
 * entities and admin endpoints, and has API keys created through the `ApiKeyIssuer` service (the
 * `apikeys` plugin provides it and must be loaded).
 */
import { API_KEY_ISSUER, PLUGIN_API_VERSION, type PluginModule } from '../../core/plugin-api.js';
import { ACCESS_REQUEST_KIND, PROFILE_KIND, profileHooks, type AccessRequestKinds } from './entity.js';
import { accessRequestRoutes } from './api.js';
import { AccessRequestService } from './service.js';
import { WebhookDispatcher } from './webhooks.js';

export { PROFILE_KIND, ACCESS_REQUEST_KIND, type AuthorizationProfile, type AccessRequest } from './entity.js';
export { signature } from './webhooks.js';

/** One dispatcher per gateway (several gateways may share this module object in one process). */
const dispatchers = new WeakMap<object, WebhookDispatcher>();

export const accessRequestsModule: PluginModule = {
  id: 'access-requests',
  apiVersion: PLUGIN_API_VERSION,
  register(host) {
    const kinds: AccessRequestKinds = {
      profiles: host.entities.define(PROFILE_KIND),
      requests: host.entities.define(ACCESS_REQUEST_KIND),
    };
    kinds.profiles.hooks(profileHooks());
    const webhooks = new WebhookDispatcher(kinds.profiles, host.state, host.logger);
    dispatchers.set(host, webhooks);
    host.admin.routes(() => {
      const service = new AccessRequestService(
        kinds,
        host.use(API_KEY_ISSUER),
        host.keys.revocations,
        webhooks,
        host.config,
      );
      return accessRequestRoutes(kinds, service, webhooks);
    });
  },
  async init(host) {
    if (!host.provides(API_KEY_ISSUER))
      throw new Error('The access-requests module needs the apikeys plugin: it creates an API key per request');
    await dispatchers.get(host)?.start();
  },
  async close(host) {
    await dispatchers.get(host)?.close();
  },
};
