/** The `jwt-verifier` plugin's public surface: the entity, its admin endpoints and the plugin. */
import { CLIENT_DIRECTORY, PLUGIN_API_VERSION, type PluginModule } from '../../core/plugin-api.js';
import { JwtVerifierPlugin } from './plugin.js';
import { VerifierRegistry } from './verifier-registry.js';
import { JWT_VERIFIER_KIND, jwtVerifierHooks } from './entity.js';

export { JwtVerifierPlugin } from './plugin.js';
export { JWT_VERIFIERS, type JwtVerifier, type InlineVerifier } from './entity.js';
export { JwtVerifierConfigSchema, type JwtVerifierConfig } from './schema.js';

export const jwtVerifierPlugin: PluginModule = {
  id: 'jwt-verifier',
  apiVersion: PLUGIN_API_VERSION,
  register(host) {
    const verifiers = host.entities.define(JWT_VERIFIER_KIND);
    verifiers.hooks(jwtVerifierHooks());
    const { keys } = host;
    host.plugins.add(() => {
      const registry = new VerifierRegistry(keys.signing, host.logger, host.metrics);
      return new JwtVerifierPlugin(registry, keys.signing, keys.revocations, host.use(CLIENT_DIRECTORY));
    });
    host.admin.routes(() => verifiers.adminRoutes());
  },
};
