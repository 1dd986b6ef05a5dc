/**
 * Revoked gateway tokens, refused everywhere: single tokens by id (`jti`, RFC 7009), kept until
 * the token's own expiry, and every token of a client issued before a cut-off ("not before", the
 * admin's revoke-all), kept until the longest-lived grant it could refuse (a refresh token) has expired.
 *
 * They are runtime state, not configuration: each is one entry in the durable `revocations`
 * namespace of the state store (an O(1) write that survives `kill -9`, expiring by itself), and
 * each process keeps a mirror in memory for the synchronous O(1) check on the hot path. The mirror
 * hears of other processes' and instances' revocations by publish/subscribe (within the engine's
 * delivery latency: 50 ms embedded, Redis pub/sub), and is rebuilt from the namespace at start and
 * whenever messages may have been missed (`onResync`). While the state store is unreachable the
 * mirror keeps answering: tokens revoked before the outage stay refused.
 */
import { createHash } from 'node:crypto';
import { inject, injectable } from 'tsyringe';
import type { Logger } from 'pino';
import { LOGGER, STATE_STORE, STORE } from '../tokens.js';
import type { Store } from '../config/store.js';
import type { StateNamespace, StateStore, StateValue } from '../state/state-store.js';
import { RevocationEpoch } from './revocation-epoch.js';

/**
 * Entity kinds under which earlier releases kept revocations in the configuration store. A data
 * file that still holds them loads (unknown kinds are kept as they are); `start()` moves their
 * live entries into the state store and deletes them from the configuration.
 */
export const LEGACY_REVOKED_TOKENS = 'revoked-tokens';
export const LEGACY_CLIENT_TOKEN_CUTOFFS = 'client-token-cutoffs';

/** The longest lifetime of a gateway access token (the client credentials service's maximum). */
export const MAX_GATEWAY_TOKEN_LIFETIME_SECONDS = 86_400;
/**
 * The longest lifetime of any grant a cut-off must refuse: an `oauth2` refresh token lives up to a
 * year (`refreshTokenTtlSeconds`), far longer than an access token, so a cut-off is kept that long.
 */
export const MAX_GRANT_LIFETIME_SECONDS = 365 * 86_400;

const NAMESPACE = 'revocations';
const CHANNEL = 'revoked';
const TOKEN_PREFIX = 'jti:';
const CLIENT_PREFIX = 'client:';
const PRUNE_EVERY_MS = 60_000;

/** What travels on the channel and sits in the namespace: a token or a client cut-off. */
type RevocationMessage = { jti: string; exp: number } | { clientId: string; notBefore: number };

/** Keys are bounded (400 bytes): a long `jti` is hashed, everywhere the same way. */
function tokenKey(jti: string): string {
  return (
    TOKEN_PREFIX + (Buffer.byteLength(jti) <= 200 ? jti : `#${createHash('sha256').update(jti).digest('base64url')}`)
  );
}

@injectable()
export class RevocationList {
  readonly #config: Store;
  readonly #state: StateStore;
  readonly #log: Logger | null;
  #namespace: StateNamespace | null = null;
  /** Mirror: token key → exp (epoch s). */
  readonly #revoked = new Map<string, number>();
  /** Mirror: clientId → notBefore (epoch s). */
  readonly #cutoffs = new Map<string, number>();
  readonly #stops: Array<() => void> = [];
  /** Bumped by every rebuild: a rebuild that finishes after a newer one started is dropped. */
  #generation = 0;
  /** Advanced by every revocation: caches of token verdicts (introspection results) drop what they hold. */
  readonly #epoch: RevocationEpoch | null;

  constructor(
    @inject(STORE) config: Store,
    @inject(STATE_STORE) state: StateStore,
    @inject(LOGGER, { isOptional: true }) log?: Logger,
    @inject(RevocationEpoch, { isOptional: true }) epoch?: RevocationEpoch,
  ) {
    this.#config = config;
    this.#state = state;
    this.#log = log?.child({ component: 'revocations' }) ?? null;
    this.#epoch = epoch ?? null;
  }

  get #ns(): StateNamespace {
    return (this.#namespace ??= this.#state.namespace(NAMESPACE, { durable: true }));
  }

  /** Subscribe, move revocations left in the configuration by an earlier release, and build the mirror. */
  async start(): Promise<void> {
    const ns = this.#ns;
    this.#stops.push(ns.subscribe(CHANNEL, (message) => this.#apply(message as RevocationMessage)));
    this.#stops.push(
      ns.onResync(
        () =>
          void this.#rebuild().catch((error: unknown) =>
            this.#log?.warn({ err: error }, 'revocation mirror not rebuilt; serving the one held'),
          ),
      ),
    );
    await this.#migrateLegacy();
    await this.#rebuild();
    const timer = setInterval(() => this.prune(), PRUNE_EVERY_MS);
    timer.unref();
    this.#stops.push(() => clearInterval(timer));
  }

  stop(): void {
    for (const stop of this.#stops.splice(0)) stop();
  }

  isRevoked(jti: string | undefined): boolean {
    return jti !== undefined && this.#revoked.has(tokenKey(jti));
  }

  /** Epoch seconds before which the client's tokens are refused (0: no cut-off). */
  clientNotBefore(clientId: string): number {
    return this.#cutoffs.get(clientId) ?? 0;
  }

  /**
   * Read the client's cut-off from the state store into the mirror. For the token endpoint, where a
   * grant must not be renewed in the moment between a cut-off made on another instance (durable
   * once the admin is answered) and its announcement reaching this one; one read, off the hot path.
   */
  async syncClient(clientId: string): Promise<void> {
    const stored = await this.#ns.get(CLIENT_PREFIX + clientId);
    const notBefore =
      typeof stored === 'object' && stored !== null && !Array.isArray(stored) ? stored.notBefore : undefined;
    if (typeof notBefore === 'number') this.#mirrorCutoff(clientId, notBefore);
  }

  /** Whether a token of `clientId` issued at `iat` (epoch s) falls before the client's cut-off. */
  isIssuedBeforeCutoff(clientId: string, iat: unknown): boolean {
    const notBefore = this.#cutoffs.get(clientId);
    if (notBefore === undefined) return false;
    // A token without a usable iat cannot prove it came after the cut-off.
    return typeof iat !== 'number' || iat < notBefore;
  }

  /**
   * Revoke until `exp` (epoch seconds); resolves once durable and refused by this process, and
   * announced to the others. Rejects with StateUnavailableError when the state store is unreachable.
   */
  async revoke(jti: string, clientId: string, exp: number, nowMs = Date.now()): Promise<void> {
    const key = tokenKey(jti);
    if (this.#revoked.has(key)) return;
    const ttlMs = exp * 1000 - nowMs;
    // An expired token is refused for its expiry already: nothing to keep.
    if (ttlMs <= 0) return;
    await this.#ns.set(key, { clientId, exp }, ttlMs);
    this.#revoked.set(key, exp);
    await this.#epoch?.advance(nowMs);
    await this.#announce({ jti, exp });
  }

  /**
   * Revoke every token of `clientId` issued until now; resolves once durable with the cut-off
   * (epoch seconds). `iat` has a one-second resolution, so the cut-off is the next second: tokens
   * issued during the current second are refused too (the token endpoint waits for the cut-off
   * before issuing, see `clientNotBefore`).
   */
  async revokeClientTokens(clientId: string, nowMs = Date.now()): Promise<number> {
    return this.#cutOff(clientId, Math.floor(nowMs / 1000) + 1, nowMs);
  }

  /** Refuse `clientId`'s tokens issued before `notBefore` (epoch seconds); never moves a cut-off back. */
  async #cutOff(clientId: string, notBefore: number, nowMs: number): Promise<number> {
    const previous = this.#cutoffs.get(clientId);
    if (previous !== undefined && previous >= notBefore) return previous;
    const ttlMs = (notBefore + MAX_GRANT_LIFETIME_SECONDS) * 1000 - nowMs;
    if (ttlMs <= 0) return notBefore; // every token it could refuse has expired
    await this.#ns.set(CLIENT_PREFIX + clientId, { notBefore }, ttlMs);
    this.#mirrorCutoff(clientId, notBefore);
    await this.#epoch?.advance(nowMs);
    await this.#announce({ clientId, notBefore });
    return notBefore;
  }

  /**
   * Revocations as an earlier release exported them (entities `revoked-tokens` and
   * `client-token-cutoffs`), imported into the state store: nothing revoked comes back to life.
   */
  async importLegacy(kind: string, items: readonly unknown[], nowMs = Date.now()): Promise<void> {
    for (const item of items) {
      if (typeof item !== 'object' || item === null) continue;
      const entry = item as { jti?: unknown; clientId?: unknown; exp?: unknown; notBefore?: unknown };
      if (kind === LEGACY_REVOKED_TOKENS && typeof entry.jti === 'string' && typeof entry.exp === 'number') {
        await this.revoke(entry.jti, typeof entry.clientId === 'string' ? entry.clientId : '', entry.exp, nowMs);
      } else if (
        kind === LEGACY_CLIENT_TOKEN_CUTOFFS &&
        typeof entry.clientId === 'string' &&
        typeof entry.notBefore === 'number'
      ) {
        await this.#cutOff(entry.clientId, entry.notBefore, nowMs);
      }
    }
  }

  /** Drop mirrored entries that could not refuse anything any more (the store expires its own). */
  prune(nowSeconds = Math.floor(Date.now() / 1000)): void {
    for (const [key, exp] of this.#revoked) if (exp < nowSeconds) this.#revoked.delete(key);
    for (const [clientId, notBefore] of this.#cutoffs)
      if (notBefore + MAX_GRANT_LIFETIME_SECONDS < nowSeconds) this.#cutoffs.delete(clientId);
  }

  /** Entries mirrored (tests and diagnostics). */
  get size(): number {
    return this.#revoked.size + this.#cutoffs.size;
  }

  /**
   * The revocation is durable already: a lost message only delays the others until their next
   * resync, so a failed publish is logged, not reported to the caller as a failed revocation.
   */
  async #announce(message: RevocationMessage): Promise<void> {
    try {
      await this.#ns.publish(CHANNEL, message as unknown as StateValue);
    } catch (error) {
      this.#log?.warn(
        { err: error },
        'revocation stored but not announced; other instances learn of it at their next resync',
      );
    }
  }

  #apply(message: RevocationMessage): void {
    if ('jti' in message && typeof message.jti === 'string' && typeof message.exp === 'number')
      this.#revoked.set(tokenKey(message.jti), message.exp);
    else if ('clientId' in message && typeof message.clientId === 'string' && typeof message.notBefore === 'number')
      this.#mirrorCutoff(message.clientId, message.notBefore);
  }

  #mirrorCutoff(clientId: string, notBefore: number): void {
    if ((this.#cutoffs.get(clientId) ?? 0) < notBefore) this.#cutoffs.set(clientId, notBefore);
  }

  /** Replace the mirror with the namespace's live entries, keeping what was heard meanwhile. */
  async #rebuild(): Promise<void> {
    const generation = ++this.#generation;
    const entries = await this.#ns.entries();
    if (generation !== this.#generation) return;
    const revoked = new Map<string, number>();
    const cutoffs = new Map<string, number>();
    for (const { key, value } of entries) {
      const record = value as Record<string, unknown>;
      if (key.startsWith(TOKEN_PREFIX) && typeof record.exp === 'number') revoked.set(key, record.exp);
      else if (key.startsWith(CLIENT_PREFIX) && typeof record.notBefore === 'number')
        cutoffs.set(key.slice(CLIENT_PREFIX.length), record.notBefore);
    }
    // A revocation mirrored while the entries were read is durable: keep it whether or not the read saw it.
    for (const [key, exp] of this.#revoked) if (!revoked.has(key)) revoked.set(key, exp);
    for (const [clientId, notBefore] of this.#cutoffs)
      if ((cutoffs.get(clientId) ?? 0) < notBefore) cutoffs.set(clientId, notBefore);
    this.#revoked.clear();
    this.#cutoffs.clear();
    for (const [key, exp] of revoked) this.#revoked.set(key, exp);
    for (const [clientId, notBefore] of cutoffs) this.#cutoffs.set(clientId, notBefore);
    this.prune();
  }

  /**
   * Move what an earlier release stored as configuration entities into the state store, then
   * delete it from the configuration (each step idempotent: a crash in between repeats it).
   */
  async #migrateLegacy(nowMs = Date.now()): Promise<void> {
    const tokens = this.#config.list(LEGACY_REVOKED_TOKENS) as Array<{
      jti?: unknown;
      clientId?: unknown;
      exp?: unknown;
    }>;
    const cutoffs = this.#config.list(LEGACY_CLIENT_TOKEN_CUTOFFS) as Array<{
      clientId?: unknown;
      notBefore?: unknown;
    }>;
    if (tokens.length === 0 && cutoffs.length === 0) return;
    const writes: Promise<unknown>[] = [];
    for (const t of tokens) {
      if (typeof t.jti !== 'string' || typeof t.exp !== 'number' || t.exp * 1000 <= nowMs) continue;
      writes.push(
        this.#ns.set(
          tokenKey(t.jti),
          { clientId: typeof t.clientId === 'string' ? t.clientId : '', exp: t.exp },
          t.exp * 1000 - nowMs,
        ),
      );
    }
    for (const c of cutoffs) {
      if (typeof c.clientId !== 'string' || typeof c.notBefore !== 'number') continue;
      const ttlMs = (c.notBefore + MAX_GRANT_LIFETIME_SECONDS) * 1000 - nowMs;
      if (ttlMs > 0) writes.push(this.#ns.set(CLIENT_PREFIX + c.clientId, { notBefore: c.notBefore }, ttlMs));
    }
    await Promise.all(writes);
    await Promise.all([
      ...tokens.map((t) => this.#config.delete(LEGACY_REVOKED_TOKENS, String(t.jti))),
      ...cutoffs.map((c) => this.#config.delete(LEGACY_CLIENT_TOKEN_CUTOFFS, String(c.clientId))),
    ]);
    this.#log?.info(
      { tokens: tokens.length, cutoffs: cutoffs.length },
      'revocations moved from the configuration to the runtime state store',
    );
  }
}
