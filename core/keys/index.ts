/** Key pairs and revocations: core services every token-issuing or token-checking plugin uses. */
import type { DependencyContainer } from 'tsyringe';
import { ADMIN_EXTENSIONS, STORE } from '../tokens.js';
import { EntityRegistry } from '../config/entities.js';
import { EntityService } from '../config/entity-service.js';
import type { Store } from '../config/store.js';
import { ConflictError } from '../errors.js';
import { KeyService } from './key-service.js';
import { RevocationList, LEGACY_REVOKED_TOKENS, LEGACY_CLIENT_TOKEN_CUTOFFS } from './revocations.js';
import { RevocationEpoch } from './revocation-epoch.js';
import { KeyPairsAdmin } from './api.js';
import { DEFAULT_KEYPAIR_ID, KEYPAIR_KIND, KEYPAIRS, keyPairHooks } from './entity.js';

export {
  KeyService,
  KEY_PAIR_INDEX,
  keyPairIndex,
  TokenVerificationError,
  tokenErrorMessage,
  type SigningKey,
  type VerificationKey,
} from './key-service.js';
export { RevocationList, MAX_GATEWAY_TOKEN_LIFETIME_SECONDS, MAX_GRANT_LIFETIME_SECONDS } from './revocations.js';
export { RevocationEpoch } from './revocation-epoch.js';
export {
  KEYPAIRS,
  KEYPAIR_KIND,
  DEFAULT_KEYPAIR_ID,
  SIGNING_ALGORITHMS,
  type KeyPair,
  type SigningAlgorithm,
} from './entity.js';

export function registerKeys(container: DependencyContainer): void {
  const registry = container.resolve(EntityRegistry);
  registry.register(KEYPAIR_KIND);
  // Exports of earlier versions carry revocations as entities; they now live in the runtime state.
  for (const kind of [LEGACY_REVOKED_TOKENS, LEGACY_CLIENT_TOKEN_CUTOFFS])
    registry.retire(kind, (items) => container.resolve(RevocationList).importLegacy(kind, items));
  container.registerSingleton(KeyService);
  container.registerSingleton(RevocationEpoch);
  container.registerSingleton(RevocationList);
  container.register(ADMIN_EXTENSIONS, { useClass: KeyPairsAdmin });
}

/** After the stores opened: hooks, indexes, the revocation mirror, and the default key pair on first start. */
export async function initKeys(container: DependencyContainer): Promise<void> {
  const entities = container.resolve(EntityService);
  const store = container.resolve<Store>(STORE);
  // Whoever refers to a key pair declares it on its kind or plugin; the EntityService refuses the delete.
  const kidOwner = (kid: string, id: string) =>
    store
      .list(KEYPAIR_KIND)
      .find((pair) => pair.id !== id && (pair.kid === kid || pair.previousKeys.some((retired) => retired.kid === kid)))
      ?.id;
  entities.addHooks(KEYPAIR_KIND, keyPairHooks(kidOwner));
  const keys = container.resolve(KeyService);
  keys.start();
  // Revocations live in the runtime state store; the mirror is complete before the first request.
  await container.resolve(RevocationEpoch).start();
  await container.resolve(RevocationList).start();
  if (!store.get(KEYPAIR_KIND, DEFAULT_KEYPAIR_ID)) {
    await entities
      .create(KEYPAIRS, {
        id: DEFAULT_KEYPAIR_ID,
        name: 'Default JWT signing key',
        alg: 'RS256',
        privateKeyPem: await keys.generate('RS256'),
      })
      .catch((error: unknown) => {
        // Several instances starting at once on one Redis: another one created it first.
        if (!(error instanceof ConflictError && store.get(KEYPAIR_KIND, DEFAULT_KEYPAIR_ID))) throw error;
      });
  }
}

export function stopKeys(container: DependencyContainer): void {
  container.resolve(RevocationList).stop();
  container.resolve(RevocationEpoch).stop();
}
