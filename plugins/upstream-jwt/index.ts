/** The `upstream-jwt` plugin's public surface. */
import type { PluginModule } from '../../core/plugin-api.js';
import { ConflictError, EntityService, KEYPAIRS, KeyService, NotFoundError, PLUGINS } from '../../core/plugin-api.js';
import { UpstreamJwtPlugin } from './plugin.js';
import { DEFAULT_UPSTREAM_JWT_KEYPAIR_ID } from './schema.js';

export { UpstreamJwtPlugin } from './plugin.js';
export {
  UpstreamJwtConfigSchema,
  DEFAULT_UPSTREAM_JWT_HEADER,
  DEFAULT_UPSTREAM_JWT_KEYPAIR_ID,
  type UpstreamJwtConfig,
} from './schema.js';

export const upstreamJwtPlugin: PluginModule = {
  register(container) {
    container.register(PLUGINS, { useClass: UpstreamJwtPlugin });
  },
  /**
   * The plugin's default signing key, an ES256 pair of its own, made on the first start: the
   * gateway's default pair is RS256 (for token compatibility), and an RSA signature per proxied
   * request costs about twice an ECDSA one.
   */
  async init(container) {
    const entities = container.resolve(EntityService);
    if (exists(entities, DEFAULT_UPSTREAM_JWT_KEYPAIR_ID)) return;
    const privateKeyPem = await container.resolve(KeyService).generate('ES256');
    await entities
      .create(KEYPAIRS, {
        id: DEFAULT_UPSTREAM_JWT_KEYPAIR_ID,
        name: 'Default upstream JWT signing key',
        alg: 'ES256',
        privateKeyPem,
      })
      .catch((error: unknown) => {
        // Several instances starting at once on one store: another one created it first.
        if (!(error instanceof ConflictError && exists(entities, DEFAULT_UPSTREAM_JWT_KEYPAIR_ID))) throw error;
      });
  },
};

function exists(entities: EntityService, id: string): boolean {
  try {
    entities.get(KEYPAIRS, id);
    return true;
  } catch (error) {
    if (error instanceof NotFoundError) return false;
    throw error;
  }
}
