/**
 * The gateway's signing keys, ready to use: private keys parsed once, public keys indexed by
 * `kid` (current and rotated-out ones until they retire), the JWKS document, signing and
 * verification of the gateway's own tokens. Reloaded by the compile step (`keyPairIndex`) when key
 * pairs change, in the same pass that recompiles the routes that sign or verify with them.
 */
import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject, type JsonWebKey } from 'node:crypto';
import { inject, injectable } from 'tsyringe';
import { jwtVerify, decodeProtectedHeader, type JWTPayload, type JWTVerifyOptions } from 'jose';
import type { Logger } from 'pino';
import { LOGGER, STORE } from '../tokens.js';
import type { Store } from '../config/store.js';
import { indexKey, type IndexBuilder } from '../plugin-runtime/indexes.js';
import { KEYPAIRS, keyRequirement, type KeyPair, type SigningAlgorithm } from './entity.js';
import { createJwsSigner, type JwsSigner } from './jws-signer.js';

export interface SigningKey {
  readonly id: string;
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  readonly privateKey: KeyObject;
  /** Signs with `privateKey`, its header segments encoded once (built when the key pair is loaded). */
  readonly signer: JwsSigner;
}

export interface VerificationKey {
  readonly keyPairId: string;
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  readonly publicKey: KeyObject;
  /** Epoch ms after which the key no longer verifies (Infinity for current keys). */
  readonly retireAt: number;
  readonly exposed: boolean;
  readonly jwk: JsonWebKey;
}

/** Key pairs as the compile step sees them: the `KeyService`, reloaded when a key pair changes. */
export const KEY_PAIR_INDEX = indexKey<KeyService>('keypairs');

/** The core's index of key pairs, built before the plugins' (their verifiers and signers read it). */
export function keyPairIndex(keys: KeyService): IndexBuilder<KeyService> {
  return {
    key: KEY_PAIR_INDEX,
    kinds: [KEYPAIRS],
    build: () => {
      keys.reload();
      return keys;
    },
  };
}

export class TokenVerificationError extends Error {
  override name = 'TokenVerificationError';
}

@injectable()
export class KeyService {
  readonly #store: Store;
  readonly #log: Logger;
  #signing = new Map<string, SigningKey>();
  #byKid = new Map<string, VerificationKey>();
  /** Latest `exp` (epoch s) signed per kid since start: rotation keeps a key until then. */
  readonly #maxSignedExp = new Map<string, number>();
  #jwksCache: { json: string; validUntil: number } | null = null;

  constructor(@inject(STORE) store: Store, @inject(LOGGER) log: Logger) {
    this.#store = store;
    this.#log = log.child({ component: 'keys' });
  }

  /** The first load, before the compile step starts (start-up work signs and verifies). */
  start(): void {
    this.#reload();
  }

  has(id: string): boolean {
    return this.#signing.has(id);
  }

  signingKey(id: string): SigningKey | undefined {
    return this.#signing.get(id);
  }

  /** A key that verifies tokens with this kid now (current, or rotated out and not yet retired). */
  verificationKey(kid: string): VerificationKey | undefined {
    const key = this.#byKid.get(kid);
    return key && key.retireAt > Date.now() ? key : undefined;
  }

  /** Sign `payload` with the key pair `id`; `payload.exp` is recorded for rotation. The signer's own promise, not one more. */
  sign(id: string, payload: JWTPayload, typ = 'JWT'): Promise<string> {
    const key = this.#signing.get(id);
    if (!key) return Promise.reject(new Error(`No key pair "${id}"`));
    if (typeof payload.exp === 'number' && payload.exp > (this.#maxSignedExp.get(key.kid) ?? 0))
      this.#maxSignedExp.set(key.kid, payload.exp);
    return key.signer.sign(payload, typ);
  }

  /** Latest expiry (epoch ms) of a token signed with this kid since start, or 0. */
  maxSignedExpiry(kid: string): number {
    return (this.#maxSignedExp.get(kid) ?? 0) * 1000;
  }

  /**
   * Verify a token signed by one of the gateway's keys: the header's `kid` must name a live key and
   * its `alg` must be that key's algorithm (no algorithm confusion, never `none`).
   */
  async verify(
    token: string,
    options: Omit<JWTVerifyOptions, 'algorithms'> = {},
  ): Promise<{ payload: JWTPayload; key: VerificationKey }> {
    let header;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new TokenVerificationError('The token is malformed');
    }
    const key = typeof header.kid === 'string' ? this.verificationKey(header.kid) : undefined;
    if (!key) throw new TokenVerificationError('The token is not signed by a known key');
    try {
      const { payload } = await jwtVerify(token, key.publicKey, { ...options, algorithms: [key.alg] });
      return { payload, key };
    } catch (error) {
      throw new TokenVerificationError(tokenErrorMessage(error));
    }
  }

  /** The JWKS document (exposed, unretired keys), cached until the next retirement. */
  jwksJson(): string {
    const now = Date.now();
    if (this.#jwksCache && this.#jwksCache.validUntil > now) return this.#jwksCache.json;
    const live = [...this.#byKid.values()].filter((k) => k.exposed && k.retireAt > now);
    const json = JSON.stringify({ keys: live.map((k) => ({ ...k.jwk, kid: k.kid, alg: k.alg, use: 'sig' })) });
    this.#jwksCache = { json, validUntil: Math.min(...live.map((k) => k.retireAt), now + 60_000) };
    return json;
  }

  /** A fresh private key (PKCS#8 PEM) for `alg`, generated off the event loop. */
  generate(alg: SigningAlgorithm): Promise<string> {
    const need = keyRequirement(alg);
    const encoding = {
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    } as const;
    return new Promise((resolve, reject) => {
      const done = (error: Error | null, _publicKey: string, privateKey: string) =>
        error ? reject(error) : resolve(privateKey);
      if (need.type === 'rsa') generateKeyPair('rsa', { modulusLength: 2048, ...encoding }, done);
      else if (need.type === 'ec') generateKeyPair('ec', { namedCurve: need.curve!, ...encoding }, done);
      else generateKeyPair('ed25519', encoding, done);
    });
  }

  /** Parse every key pair again (the compile step calls this when key pairs changed). */
  reload(): void {
    this.#reload();
  }

  #reload(): void {
    const signing = new Map<string, SigningKey>();
    const byKid = new Map<string, VerificationKey>();
    for (const pair of this.#store.list(KEYPAIRS) as KeyPair[]) {
      try {
        const privateKey = createPrivateKey(pair.privateKeyPem!);
        const kid = pair.kid!;
        const signer = createJwsSigner(pair.alg, kid, privateKey);
        signing.set(pair.id, { id: pair.id, kid, alg: pair.alg, privateKey, signer });
        byKid.set(kid, {
          keyPairId: pair.id,
          kid,
          alg: pair.alg,
          publicKey: createPublicKey(privateKey),
          retireAt: Number.POSITIVE_INFINITY,
          exposed: pair.exposed !== false,
          jwk: stripJwk(pair.publicJwk as JsonWebKey),
        });
        for (const previous of pair.previousKeys ?? []) {
          if (byKid.has(previous.kid)) continue;
          byKid.set(previous.kid, {
            keyPairId: pair.id,
            kid: previous.kid,
            alg: previous.alg,
            retireAt: Date.parse(previous.retireAt),
            exposed: pair.exposed !== false,
            publicKey: createPublicKey({ key: previous.publicJwk as JsonWebKey, format: 'jwk' }),
            jwk: stripJwk(previous.publicJwk as JsonWebKey),
          });
        }
      } catch (error) {
        this.#log.error(
          { err: error, keyPairId: pair.id },
          'key pair could not be loaded; it neither signs nor verifies',
        );
      }
    }
    this.#signing = signing;
    this.#byKid = byKid;
    this.#jwksCache = null;
  }
}

/** Only the public key members (the stored JWK may carry kid/alg/use; they are set from the entity). */
function stripJwk(jwk: JsonWebKey): JsonWebKey {
  const { kty, n, e, crv, x, y } = jwk;
  return Object.fromEntries(Object.entries({ kty, n, e, crv, x, y }).filter(([, v]) => v !== undefined));
}

/** A jose verification error as a message safe to send to the client (RFC 6750 error_description). */
export function tokenErrorMessage(error: unknown): string {
  switch ((error as { code?: string }).code) {
    case 'ERR_JWT_EXPIRED':
      return 'The token has expired';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'The token signature is invalid';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'The token algorithm is not allowed';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
      const claim = (error as { claim?: string }).claim;
      return claim === 'nbf' ? 'The token is not valid yet' : `The token claim "${claim}" is invalid`;
    }
    case 'ERR_JOSE_NOT_SUPPORTED':
      return 'The token uses an unsupported key or algorithm';
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return 'The token is malformed';
    default:
      return 'The token is invalid';
  }
}
