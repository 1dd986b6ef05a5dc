/** The `upstream-jwt` plugin's public surface. */
import { ConflictError, PLUGIN_API_VERSION, type PluginModule } from '../../core/plugin-api.js';
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
  id: 'upstream-jwt',
  apiVersion: PLUGIN_API_VERSION,
  register(host) {
    host.plugins.add(() => new UpstreamJwtPlugin(host.keys.signing, host.config, host.logger));
  },
  /**
   * The plugin's default signing key, an ES256 pair of its own, made on the first start: the
   * gateway's default pair is RS256 (for token compatibility), and an RSA signature per proxied
   * request costs about twice an ECDSA one.
   */
  async init(host) {
    const keyPairs = host.entities.keyPairs;
    if (keyPairs.find(DEFAULT_UPSTREAM_JWT_KEYPAIR_ID)) return;
    const privateKeyPem = await host.keys.signing.generate('ES256');
    await keyPairs
      .create({
        id: DEFAULT_UPSTREAM_JWT_KEYPAIR_ID,
        name: 'Default upstream JWT signing key',
        alg: 'ES256',
        privateKeyPem,
      })
      .catch((error: unknown) => {
        // Several instances starting at once on one store: another one created it first.
        if (!(error instanceof ConflictError && keyPairs.find(DEFAULT_UPSTREAM_JWT_KEYPAIR_ID))) throw error;
      });
  },
};
