/**
 * Rotation of the `oauth2` provision key: `POST /api/routes/{id}/plugins/oauth2/provision-key`
 * answers `{"provisionKey": "<new key>"}`, shown this once (only its SHA-256 is stored); the old
 * key stops working as soon as the configuration change reaches each instance. The key is a
 * write-only secret of the plugin's schema, so generating, keeping and hiding it is the core's
 * write path (`writeOnlySecret` in the plugin API).
 */
import { NO_STORE, type AdminRoute, type HostEntities } from '../../core/plugin-api.js';

export function provisionKeyRoutes(entities: HostEntities): AdminRoute[] {
  return [
    {
      method: 'POST',
      path: '/api/routes/:id/plugins/oauth2/provision-key',
      async handler({ params }) {
        const provisionKey = await entities.rotateSecret(params.id!, 'oauth2', 'provisionKey');
        return { body: { provisionKey }, headers: { ...NO_STORE } };
      },
    },
  ];
}
