/**
 * Client authentication by signed assertion (RFC 7523 §2.2, OpenID Connect's `private_key_jwt`): a
 * client registered with `tokenEndpointAuthMethod: private_key_jwt` proves itself with a short JWT it
 * signed with its own private key, checked against its JWKS URL (a `RemoteKeySet`, shared with
 * `jwt-verifier`) or the public keys registered on it. Each assertion is accepted once: its `jti` is
 * remembered in the runtime state store until it expires, so a replay anywhere in a cluster fails.
 */
import { createPublicKey, X509Certificate, type JsonWebKey, type KeyObject } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import type { Logger } from 'pino';
import { Type, type Static } from '@sinclair/typebox';
import { InvalidClientError } from '../errors.js';
import type { ErrorDetail } from '../errors.js';
import type { StateNamespace, StateStore } from '../state/state-store.js';
import {
  isClientActive,
  type ClientDirectory,
  type IndexedClient,
  type OAuthClient,
  type RegisteredKeys,
} from './clients.js';
import { RemoteKeySet, type ResolvedKey } from './remote-keys.js';
import { JWKS_URI_PUBLIC_ONLY } from './jwks-uri-guard.js';

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Asymmetric algorithms only: an HMAC assertion would need the secret a `private_key_jwt` client does not have. */
export const ASSERTION_SIGNING_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;
const ALLOWED_ALGORITHMS: ReadonlySet<string> = new Set(ASSERTION_SIGNING_ALGORITHMS);

/** The assertion settings of a token endpoint's configuration (`client-credentials`, `oauth2`): one schema for both. */
export const ClientAssertionSettingsSchema = Type.Object(
  {
    maxLifetimeSeconds: Type.Integer({
      title: 'Max lifetime (seconds)',
      minimum: 10,
      maximum: 3600,
      default: 300,
      description:
        'Longest accepted assertion lifetime (`exp` − `iat`, and `exp` − now), in seconds; `exp` is required.',
    }),
    clockSkewSeconds: Type.Integer({
      title: 'Clock skew (seconds)',
      minimum: 0,
      maximum: 120,
      default: 30,
      description: 'Clock difference tolerated on `exp`, `nbf` and `iat`, in seconds.',
    }),
    jwksCacheSeconds: Type.Integer({
      title: 'JWKS cache (seconds)',
      minimum: 0,
      maximum: 86_400,
      default: 300,
      description: "How long a client's JWKS document is cached at most (its Cache-Control max-age may shorten it).",
    }),
    jwksRefetchCooldownSeconds: Type.Integer({
      title: 'JWKS refetch cooldown (seconds)',
      minimum: 0,
      maximum: 3600,
      default: 30,
      description: "An unknown `kid` refetches a client's JWKS at most once per this many seconds.",
    }),
  },
  {
    additionalProperties: false,
    default: {},
    description: 'Client authentication by signed assertion (`private_key_jwt`, RFC 7523).',
  },
);
export type ClientAssertionOptions = Static<typeof ClientAssertionSettingsSchema>;

/** Where an assertion may be addressed: the token endpoint URL, the issuer, the URL it was sent to. */
export interface AssertionAudience {
  readonly audiences: readonly string[];
}

const PEM_PRIVATE = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
const MIN_RSA_BITS = 2048;

interface RegisteredKey extends ResolvedKey {
  kid?: string;
}

/**
 * Import registered keys, refusing what an assertion cannot be checked with: private keys (they
 * belong to the client alone), symmetric keys, short RSA keys, unparseable PEM or JWK.
 * Throws an Error whose message says which key and why.
 */
export function importRegisteredKeys(registered: RegisteredKeys): RegisteredKey[] {
  if (typeof registered === 'string') {
    if (PEM_PRIVATE.test(registered)) throw new Error('a private key: register the public key or certificate only');
    let key: KeyObject;
    try {
      key = registered.includes('-----BEGIN CERTIFICATE-----')
        ? new X509Certificate(registered).publicKey
        : createPublicKey(registered);
    } catch {
      throw new Error('not a PEM public key or X.509 certificate');
    }
    checkAsymmetric(key);
    return [{ key }];
  }
  return registered.keys.map((jwk, i) => {
    if (jwk.d !== undefined || jwk.k !== undefined)
      throw new Error(`key ${i}: private or symmetric key material (register public keys only)`);
    let key: KeyObject;
    try {
      key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    } catch {
      throw new Error(`key ${i}: not a usable public JWK`);
    }
    try {
      checkAsymmetric(key);
    } catch (error) {
      throw new Error(`key ${i}: ${(error as Error).message}`);
    }
    if (typeof jwk.alg === 'string' && !ALLOWED_ALGORITHMS.has(jwk.alg))
      throw new Error(`key ${i}: alg ${jwk.alg} is not an asymmetric signing algorithm`);
    return {
      key,
      alg: typeof jwk.alg === 'string' ? jwk.alg : undefined,
      kid: typeof jwk.kid === 'string' ? jwk.kid : undefined,
    };
  });
}

function checkAsymmetric(key: KeyObject): void {
  const type = key.asymmetricKeyType;
  if (type !== 'rsa' && type !== 'rsa-pss' && type !== 'ec' && type !== 'ed25519' && type !== 'ed448')
    throw new Error(`key type ${type ?? 'unknown'} cannot sign assertions`);
  if ((type === 'rsa' || type === 'rsa-pss') && (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS)
    throw new Error(`RSA keys need at least ${MIN_RSA_BITS} bits`);
}

/** The client-authentication fields of a client, checked at write time (paths relative to the client). */
export function clientAuthProblems(
  client: Pick<OAuthClient, 'tokenEndpointAuthMethod' | 'jwksUri' | 'jwks' | 'clientType'>,
): ErrorDetail[] {
  const method = client.tokenEndpointAuthMethod;
  const problems: ErrorDetail[] = [];
  if (method === 'none' && client.clientType !== undefined && client.clientType !== 'public')
    problems.push({
      path: '/tokenEndpointAuthMethod',
      message: '`none` is the method of public clients (clientType public)',
    });
  if (method !== undefined && method !== 'none' && client.clientType === 'public')
    problems.push({ path: '/tokenEndpointAuthMethod', message: 'A public client authenticates with `none`' });
  if (method !== 'private_key_jwt') {
    if (client.jwksUri !== undefined)
      problems.push({ path: '/jwksUri', message: 'Only a private_key_jwt client has a JWKS URL' });
    if (client.jwks !== undefined)
      problems.push({ path: '/jwks', message: 'Only a private_key_jwt client has registered keys' });
    return problems;
  }
  if ((client.jwksUri === undefined) === (client.jwks === undefined)) {
    problems.push({
      path: '/jwksUri',
      message: 'A private_key_jwt client needs either a jwksUri or registered jwks (one of them)',
    });
    return problems;
  }
  if (client.jwksUri !== undefined) {
    const url = URL.canParse(client.jwksUri) ? new URL(client.jwksUri) : null;
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:'))
      problems.push({ path: '/jwksUri', message: 'Not an http(s) URL' });
  } else {
    try {
      const keys = importRegisteredKeys(client.jwks!);
      if (keys.length === 0) problems.push({ path: '/jwks/keys', message: 'At least one key is required' });
    } catch (error) {
      problems.push({ path: '/jwks', message: `Unusable key: ${(error as Error).message}` });
    }
  }
  return problems;
}

/**
 * Checks assertions for one endpoint configuration. Key sets are cached per client and follow
 * its registration (a changed `jwksUri` starts a new set; changed `jwks` are imported again).
 */
export class ClientAssertionVerifier {
  readonly #clients: ClientDirectory;
  readonly #jtis: StateNamespace;
  readonly #log: Logger;
  readonly #options: ClientAssertionOptions;
  readonly #remote = new Map<string, { uri: string; publicOnly: boolean; set: RemoteKeySet }>();
  readonly #registered = new WeakMap<object, RegisteredKey[]>();

  constructor(deps: { clients: ClientDirectory; state: StateStore; log: Logger }, options: ClientAssertionOptions) {
    this.#clients = deps.clients;
    this.#jtis = deps.state.namespace('client-assertions');
    this.#log = deps.log;
    this.#options = options;
  }

  /**
   * The client that signed `assertion`, or InvalidClientError. `claimedClientId` is the request's
   * `client_id`, which must then name the same client.
   */
  async verify(
    assertion: string,
    claimedClientId: string | undefined,
    audience: AssertionAudience,
  ): Promise<IndexedClient> {
    let alg: string | undefined;
    let kid: string | undefined;
    let unverified: JWTPayload;
    try {
      ({ alg, kid } = decodeProtectedHeader(assertion));
      unverified = decodeJwt(assertion);
    } catch {
      throw new InvalidClientError('The client assertion is not a JWT');
    }
    if (alg === undefined || !ALLOWED_ALGORITHMS.has(alg))
      throw new InvalidClientError(
        `The client assertion's algorithm must be one of ${ASSERTION_SIGNING_ALGORITHMS.join(', ')}`,
      );
    const clientId = unverified.sub;
    if (typeof clientId !== 'string' || unverified.iss !== clientId)
      throw new InvalidClientError("The client assertion's iss and sub must both be the client_id");
    if (claimedClientId !== undefined && claimedClientId !== clientId)
      throw new InvalidClientError('client_id does not match the client assertion');
    const client = this.#clients.get(clientId);
    if (!client || !isClientActive(client)) throw new InvalidClientError('Client authentication failed');
    if (client.key.tokenEndpointAuthMethod !== 'private_key_jwt')
      throw new InvalidClientError('This client is not registered for private_key_jwt');
    const key = await this.#keyFor(client.key, kid);
    if (!key || (key.alg !== undefined && key.alg !== alg) || !algorithmFits(alg, key.key))
      throw new InvalidClientError('The client assertion is signed by a key not registered for this client');
    const { clockSkewSeconds: skew, maxLifetimeSeconds: maxLifetime } = this.#options;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(assertion, key.key, {
        algorithms: [alg],
        issuer: clientId,
        subject: clientId,
        audience: [...audience.audiences],
        clockTolerance: skew,
        requiredClaims: ['exp', 'jti'],
      }));
    } catch (error) {
      throw new InvalidClientError(`The client assertion is not valid: ${assertionErrorMessage(error)}`);
    }
    const now = Math.floor(Date.now() / 1000);
    const exp = payload.exp!;
    // A long-lived assertion is a bearer credential in all but name: refuse it, with or without iat.
    if (exp - now > maxLifetime + skew || (payload.iat !== undefined && exp - payload.iat > maxLifetime))
      throw new InvalidClientError(`The client assertion lives longer than ${maxLifetime} seconds`);
    if (typeof payload.jti !== 'string' || payload.jti === '' || payload.jti.length > 512)
      throw new InvalidClientError('The client assertion needs a jti');
    const ttlMs = Math.max(1, exp + skew - now) * 1000;
    if (!(await this.#jtis.setIfAbsent(`${clientId}\n${payload.jti}`, 1, ttlMs)))
      throw new InvalidClientError('The client assertion was already used');
    return client;
  }

  async #keyFor(client: OAuthClient, kid: string | undefined): Promise<ResolvedKey | null> {
    if (client.jwksUri !== undefined) {
      let entry = this.#remote.get(client.clientId);
      // A URL a portal supplied is fetched from public addresses only (jwks-uri-guard.ts).
      const publicOnly = client.metadata !== undefined && Object.hasOwn(client.metadata, JWKS_URI_PUBLIC_ONLY);
      if (!entry || entry.uri !== client.jwksUri || entry.publicOnly !== publicOnly) {
        const uri = client.jwksUri;
        const options = {
          cacheTtlSeconds: this.#options.jwksCacheSeconds,
          refetchCooldownSeconds: this.#options.jwksRefetchCooldownSeconds,
          publicAddressesOnly: publicOnly,
        };
        entry = {
          uri,
          publicOnly,
          set: new RemoteKeySet(`client ${client.clientId}`, async () => uri, options, this.#log),
        };
        this.#remote.set(client.clientId, entry);
      }
      return entry.set.resolve(kid);
    }
    if (client.jwks === undefined) return null;
    let keys = this.#registered.get(client);
    if (!keys) {
      try {
        keys = importRegisteredKeys(client.jwks);
      } catch {
        keys = [];
      }
      this.#registered.set(client, keys);
    }
    const named = kid === undefined ? undefined : keys.find((k) => k.kid === kid);
    if (named) return named;
    // A `kid` is a hint (RFC 7515 §4.1.4): a single registered key without one (a PEM key or
    // certificate has none) is the key, whatever the client's library names it.
    return keys.length === 1 && keys[0]!.kid === undefined ? keys[0]! : null;
  }
}

const EC_CURVES: Readonly<Record<string, string>> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };

/** Whether `alg` is an algorithm of this key's type (and curve). */
function algorithmFits(alg: string, key: KeyObject): boolean {
  const type = key.asymmetricKeyType;
  if (alg.startsWith('RS')) return type === 'rsa';
  if (alg.startsWith('PS')) return type === 'rsa' || type === 'rsa-pss';
  if (alg === 'EdDSA') return type === 'ed25519' || type === 'ed448';
  return type === 'ec' && key.asymmetricKeyDetails?.namedCurve === EC_CURVES[alg];
}

function assertionErrorMessage(error: unknown): string {
  const code = (error as { code?: string }).code;
  const claim = (error as { claim?: string }).claim;
  if (code === 'ERR_JWT_EXPIRED') return 'expired';
  if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') return 'bad signature';
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && claim === 'aud') return 'the audience is not this server';
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && claim) return `the ${claim} claim is missing or wrong`;
  return 'malformed';
}
