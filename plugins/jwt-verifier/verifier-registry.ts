/**
 * Compiled verifiers by entity id, kept across pipeline recompiles (so fetched key sets and their
 * caches survive unrelated configuration changes) and rebuilt when their entity changes.
 */
import { inject, injectable } from 'tsyringe';
import type { Logger } from 'pino';
import { LOGGER, METRICS, STORE, type Metrics } from '../../core/plugin-api.js';
import type { Store } from '../../core/plugin-api.js';
import { KeyService } from '../../core/plugin-api.js';
import { CompiledVerifier } from './verifier.js';
import { JWKS_FETCHES, type JwksFetchCounter } from '../../core/plugin-api.js';
import { JWT_VERIFIERS, type InlineVerifier, type JwtVerifier } from './entity.js';

@injectable()
export class VerifierRegistry {
  readonly #store: Store;
  readonly #keys: KeyService;
  readonly #log: Logger;
  readonly #fetches: JwksFetchCounter;
  readonly #compiled = new Map<string, { version: number | undefined; verifier: CompiledVerifier }>();

  constructor(@inject(STORE) store: Store, keys: KeyService, @inject(LOGGER) log: Logger, @inject(METRICS) metrics: Metrics) {
    this.#store = store;
    this.#fetches = metrics.counter(JWKS_FETCHES);
    this.#keys = keys;
    this.#log = log.child({ component: 'jwt-verifier' });
  }

  /** The compiled verifier for an entity id (compiled on first use, recompiled when the entity changed). */
  get(id: string): CompiledVerifier | null {
    const entity = this.#store.get(JWT_VERIFIERS, id) as JwtVerifier | undefined;
    if (!entity) {
      this.#compiled.delete(id);
      return null;
    }
    const cached = this.#compiled.get(id);
    if (cached && cached.version === entity.version) return cached.verifier;
    const verifier = this.compile(entity, `verifier ${id}`);
    this.#compiled.set(id, { version: entity.version, verifier });
    return verifier;
  }

  /** Compile settings that are not stored (an inline verifier). */
  compile(settings: InlineVerifier, label: string): CompiledVerifier {
    return new CompiledVerifier(settings, { keys: this.#keys, log: this.#log, label, fetches: this.#fetches });
  }
}
