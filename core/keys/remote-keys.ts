/**
 * Keys fetched from an identity provider: a JWKS URL, or OIDC discovery (the issuer's
 * `/.well-known/openid-configuration`, whose `issuer` must match, gives `jwks_uri`). Documents are
 * cached (Cache-Control max-age, bounded by the configured TTL), refetched on an unknown `kid` at most
 * once per cooldown so a flood of forged kids cannot hammer the provider, and served stale while the
 * provider is down. One fetch at a time per key set.
 *
 * In the core because two users need it: `jwt-verifier` (tokens of identity providers) and client
 * authentication by signed assertion (`client-assertions.ts`, a client's `jwksUri`).
 */
import { createPublicKey, type KeyObject, type JsonWebKey } from 'node:crypto';
import { request } from 'undici';
import type { Logger } from 'pino';
import type { FixedCounter } from '../metrics/metrics.js';
import { nonPublicLiteral, publicOnlyDispatcher } from './jwks-uri-guard.js';
import { parseStrictJson } from '../http/strict-json.js';

/** `portcullis_jwks_fetches_total`: why a key set was fetched and how it went. */
export type JwksFetchCounter = FixedCounter<'reason' | 'result'>;
export const JWKS_FETCHES = {
  name: 'portcullis_jwks_fetches_total',
  help: 'Key sets fetched from identity providers (jwt-verifier), by reason (expired: cache expired or first use; unknown_kid) and result.',
  labels: { reason: ['expired', 'unknown_kid'], result: ['ok', 'error'] },
} as const;

const FETCH_TIMEOUT_MS = 5_000;
const MAX_DOCUMENT_BYTES = 1024 * 1024;

export interface ResolvedKey {
  key: KeyObject;
  alg?: string;
}

export interface RemoteOptions {
  cacheTtlSeconds: number;
  refetchCooldownSeconds: number;
  /**
   * Connect only to public addresses, checked on the address each connection resolves to (DNS
   * rebinding included): for URLs a portal supplied (see `jwks-uri-guard.ts`).
   */
  publicAddressesOnly?: boolean;
}

/** GET a JSON document with a timeout and a size limit; returns it with its max-age (s), if any. */
export async function fetchJson(
  url: string,
  fetchOptions: { publicAddressesOnly?: boolean } = {},
): Promise<{ body: unknown; maxAge: number | null }> {
  if (fetchOptions.publicAddressesOnly) {
    const literal = nonPublicLiteral(url);
    if (literal) throw new Error(`${url} is not fetched: ${literal}`);
  }
  const options = {
    method: 'GET',
    headers: { accept: 'application/json' },
    headersTimeout: FETCH_TIMEOUT_MS,
    bodyTimeout: FETCH_TIMEOUT_MS,
    ...(fetchOptions.publicAddressesOnly ? { dispatcher: publicOnlyDispatcher() } : {}),
  } as const;
  let res;
  try {
    res = await request(url, options);
  } catch (error) {
    // A pooled connection the provider closed meanwhile: a GET is safe to send again, once.
    if ((error as { code?: string }).code !== 'UND_ERR_SOCKET' && (error as { code?: string }).code !== 'ECONNRESET')
      throw error;
    res = await request(url, options);
  }
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new Error(`${url} answered ${res.statusCode}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += (chunk as Buffer).length;
    if (size > MAX_DOCUMENT_BYTES) throw new Error(`${url} sent more than ${MAX_DOCUMENT_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const cacheControl = String(res.headers['cache-control'] ?? '');
  const maxAge = /(?:^|,)\s*max-age=(\d+)/i.exec(cacheControl);
  // Strict: a key set or metadata document naming a member twice is refused, not read one way of two.
  return { body: parseStrictJson(Buffer.concat(chunks).toString('utf8')), maxAge: maxAge ? Number(maxAge[1]) : null };
}

export class RemoteKeySet {
  readonly #locate: () => Promise<string>;
  readonly #options: RemoteOptions;
  readonly #log: Logger;
  readonly #label: string;
  #keys = new Map<string, ResolvedKey>();
  #anonymous: ResolvedKey[] = [];
  #expiresAt = 0;
  #lastFetch = 0;
  #inflight: Promise<void> | null = null;
  #everFetched = false;
  readonly #fetches: JwksFetchCounter | null;

  /** `locate` gives the JWKS URL (fixed, or from discovery). */
  constructor(
    label: string,
    locate: () => Promise<string>,
    options: RemoteOptions,
    log: Logger,
    fetches: JwksFetchCounter | null = null,
  ) {
    this.#label = label;
    this.#fetches = fetches;
    this.#locate = locate;
    this.#options = options;
    this.#log = log;
  }

  /** The key for `kid` (or the only key when the token has none); null when unknown. */
  async resolve(kid: string | undefined): Promise<ResolvedKey | null> {
    const now = Date.now();
    if (!this.#everFetched || now >= this.#expiresAt) await this.#refresh(false);
    let found = this.#find(kid);
    if (!found && Date.now() - this.#lastFetch >= this.#options.refetchCooldownSeconds * 1000) {
      await this.#refresh(true); // an unknown kid: the provider may have rotated its keys
      found = this.#find(kid);
    }
    return found;
  }

  #find(kid: string | undefined): ResolvedKey | null {
    if (kid !== undefined) return this.#keys.get(kid) ?? null;
    const all = [...this.#keys.values(), ...this.#anonymous];
    return all.length === 1 ? all[0]! : null;
  }

  #refresh(force: boolean): Promise<void> {
    this.#inflight ??= this.#fetch(force).finally(() => {
      this.#inflight = null;
    });
    return this.#inflight;
  }

  async #fetch(force: boolean): Promise<void> {
    this.#lastFetch = Date.now();
    try {
      const url = await this.#locate();
      const { body, maxAge } = await fetchJson(url, {
        publicAddressesOnly: this.#options.publicAddressesOnly === true,
      });
      const keys = (body as { keys?: unknown }).keys;
      if (!Array.isArray(keys)) throw new Error(`${url} is not a JWK Set`);
      const byKid = new Map<string, ResolvedKey>();
      const anonymous: ResolvedKey[] = [];
      for (const jwk of keys as Array<JsonWebKey & { kid?: string; use?: string; alg?: string }>) {
        if (jwk.use !== undefined && jwk.use !== 'sig') continue;
        try {
          const resolved = { key: createPublicKey({ key: jwk, format: 'jwk' }), alg: jwk.alg };
          if (jwk.kid) byKid.set(jwk.kid, resolved);
          else anonymous.push(resolved);
        } catch {
          /* a key type we cannot use: skipped */
        }
      }
      this.#keys = byKid;
      this.#anonymous = anonymous;
      this.#everFetched = true;
      const ttl = Math.min(maxAge ?? this.#options.cacheTtlSeconds, this.#options.cacheTtlSeconds);
      this.#expiresAt = Date.now() + ttl * 1000;
      this.#log.debug(
        { source: this.#label, keys: byKid.size + anonymous.length, force },
        'identity provider keys fetched',
      );
      this.#fetches?.inc({ reason: force ? 'unknown_kid' : 'expired', result: 'ok' });
    } catch (error) {
      // Keep serving what we had (stale) and try again after the cooldown.
      this.#expiresAt = Date.now() + this.#options.refetchCooldownSeconds * 1000;
      this.#fetches?.inc({ reason: force ? 'unknown_kid' : 'expired', result: 'error' });
      this.#log.warn(
        { source: this.#label, err: error },
        this.#everFetched
          ? 'identity provider keys could not be refreshed; using the cached ones'
          : 'identity provider keys could not be fetched',
      );
    }
  }
}

/** OIDC discovery: the issuer's metadata, its `issuer` checked, cached like keys; gives `jwks_uri`. */
export function discoveredJwksUri(issuer: string, options: RemoteOptions): () => Promise<string> {
  let cached: { uri: string; expiresAt: number } | null = null;
  return async () => {
    if (cached && Date.now() < cached.expiresAt) return cached.uri;
    try {
      const { body, maxAge } = await fetchJson(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`);
      const metadata = body as { issuer?: unknown; jwks_uri?: unknown };
      if (metadata.issuer !== issuer && metadata.issuer !== issuer.replace(/\/+$/, ''))
        throw new Error(`discovery document issuer ${JSON.stringify(metadata.issuer)} does not match ${issuer}`);
      if (typeof metadata.jwks_uri !== 'string' || !/^https?:\/\//.test(metadata.jwks_uri))
        throw new Error('discovery document has no jwks_uri');
      cached = {
        uri: metadata.jwks_uri,
        expiresAt: Date.now() + Math.min(maxAge ?? options.cacheTtlSeconds, options.cacheTtlSeconds) * 1000,
      };
      return cached.uri;
    } catch (error) {
      if (cached) return cached.uri; // stale while the provider is down
      throw error;
    }
  };
}
