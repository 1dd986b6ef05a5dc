/** The `jwt-verifier` plugin's public surface: the entity, its admin endpoints and the plugin. */
import { injectable } from 'tsyringe';
import type { PluginModule } from '../../core/plugin-api.js';
import {
  ADMIN_EXTENSIONS,
  PLUGINS,
  EntityRegistry,
  EntityService,
  entityRoutes,
  type AdminExtension,
  type AdminRoute,
} from '../../core/plugin-api.js';
import { JwtVerifierPlugin } from './plugin.js';
import { VerifierRegistry } from './verifier-registry.js';
import { JWT_VERIFIER_KIND, JWT_VERIFIERS, jwtVerifierHooks } from './entity.js';

export { JwtVerifierPlugin } from './plugin.js';
export { JWT_VERIFIERS, type JwtVerifier, type InlineVerifier } from './entity.js';
export { JwtVerifierConfigSchema, type JwtVerifierConfig } from './schema.js';

@injectable()
class JwtVerifiersAdmin implements AdminExtension {
  readonly #entities: EntityService;
  constructor(entities: EntityService) {
    this.#entities = entities;
  }
  routes(): AdminRoute[] {
    return entityRoutes(this.#entities, JWT_VERIFIERS);
  }
}

export const jwtVerifierPlugin: PluginModule = {
  register(container) {
    container.resolve(EntityRegistry).register(JWT_VERIFIER_KIND);
    container.registerSingleton(VerifierRegistry);
    container.register(PLUGINS, { useClass: JwtVerifierPlugin });
    container.register(ADMIN_EXTENSIONS, { useClass: JwtVerifiersAdmin });
  },
  init(container) {
    container.resolve(EntityService).addHooks(JWT_VERIFIER_KIND, jwtVerifierHooks());
  },
};
