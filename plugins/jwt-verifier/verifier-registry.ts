/**
 * Compiled verifiers by entity id: the `jwt-verifier` plugin's index, built by the compile step in
 * the same pass as the routes that use it (editing a verifier recompiles every route). A verifier
 * whose entity did not change is carried over to the next index, so fetched key sets and their
 * caches survive unrelated configuration changes.
 */
import type { Logger } from 'pino';
import {
  indexKey,
  type IndexBuilder,
  type IndexSet,
  type Metrics,
  KeyService,
  JWKS_FETCHES,
  type JwksFetchCounter,
} from '../../core/plugin-api.js';
import type { EntitySource } from '../../core/plugin-api.js';
import { CompiledVerifier } from './verifier.js';
import { JWT_VERIFIERS, type InlineVerifier, type JwtVerifier } from './entity.js';

/** A stored verifier compiled, or why it could not be (settings written by an older version). */
type IndexedVerifier = { readonly version: number | undefined } & (
  { readonly verifier: CompiledVerifier } | { readonly verifier: null; readonly error: Error }
);

/** The stored verifiers, compiled, by entity id. */
export type VerifierIndex = ReadonlyMap<string, IndexedVerifier>;

export const VERIFIER_INDEX = indexKey<VerifierIndex>('jwt-verifiers');

export class VerifierRegistry {
  readonly #keys: KeyService;
  readonly #log: Logger;
  readonly #fetches: JwksFetchCounter;

  constructor(keys: KeyService, log: Logger, metrics: Metrics) {
    this.#fetches = metrics.counter(JWKS_FETCHES);
    this.#keys = keys;
    this.#log = log.child({ component: 'jwt-verifier' });
  }

  /** The index the compile step builds: every stored verifier, recompiled only when its entity changed. */
  indexBuilder(): IndexBuilder<VerifierIndex> {
    return { key: VERIFIER_INDEX, kinds: [JWT_VERIFIERS], build: (store, previous) => this.#index(store, previous) };
  }

  #index(store: EntitySource, previous: VerifierIndex | undefined): VerifierIndex {
    const index = new Map<string, IndexedVerifier>();
    for (const entity of store.list(JWT_VERIFIERS) as JwtVerifier[]) {
      const kept = previous?.get(entity.id);
      index.set(entity.id, kept && kept.version === entity.version ? kept : this.#compileStored(entity));
    }
    return index;
  }

  #compileStored(entity: JwtVerifier): IndexedVerifier {
    try {
      return { version: entity.version, verifier: this.compile(entity, `verifier ${entity.id}`) };
    } catch (error) {
      // One broken verifier must not stop the compile pass: the routes naming it do not compile (503).
      this.#log.error(
        { err: error, verifierId: entity.id },
        'JWT verifier could not be compiled; routes naming it answer 503 until fixed',
      );
      return { version: entity.version, verifier: null, error: error as Error };
    }
  }

  /**
   * The compiled verifiers of these ids in the compile pass's indexes, in order; an id not stored is
   * skipped. Throws for a verifier that did not compile, so the instance naming it does not either.
   */
  stored(ids: readonly string[], indexes: IndexSet | undefined): CompiledVerifier[] {
    const index = indexes?.get(VERIFIER_INDEX);
    return ids.flatMap((id) => {
      const found = index?.get(id);
      if (!found) return [];
      if (found.verifier === null)
        throw new Error(`The JWT verifier "${id}" could not be compiled: ${found.error.message}`);
      return [found.verifier];
    });
  }

  /** Compile settings that are not stored (an inline verifier). */
  compile(settings: InlineVerifier, label: string): CompiledVerifier {
    return new CompiledVerifier(settings, { keys: this.#keys, log: this.#log, label, fetches: this.#fetches });
  }
}
