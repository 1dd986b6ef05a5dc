/**
 * Revoked gateway tokens, refused everywhere: single tokens by id (`jti`, RFC 7009), kept until
 * the token's own expiry, and every token of a client issued before a cut-off ("not before", the
 * admin's revoke-all), kept until the longest-lived token it could refuse has expired. Both are
 * persisted as small entity kinds so a restart does not bring revoked tokens back, indexed in
 * memory for an O(1) check, and pruned once they could not refuse anything.
 */
import { inject, injectable } from 'tsyringe';
import { Type, type Static } from '@sinclair/typebox';
import { STORE } from '../tokens.js';
import type { Store } from '../config/store.js';
import { defineEntityKind, EntityId, EntityMeta } from '../config/entities.js';

export const REVOKED_TOKENS = 'revoked-tokens';
export const CLIENT_TOKEN_CUTOFFS = 'client-token-cutoffs';

/** The longest lifetime of a gateway access token (the client credentials service's maximum). */
export const MAX_GATEWAY_TOKEN_LIFETIME_SECONDS = 86_400;

export const RevokedTokenSchema = Type.Object({
  jti: Type.String({ minLength: 1, maxLength: 200 }),
  clientId: Type.String(),
  /** Epoch seconds: the token's own expiry, after which the entry is dropped. */
  exp: Type.Integer({ minimum: 0 }),
  revokedAt: Type.String(),
  ...EntityMeta,
}, { additionalProperties: false });
export type RevokedToken = Static<typeof RevokedTokenSchema>;

export const REVOKED_TOKEN_KIND = defineEntityKind({ name: REVOKED_TOKENS, title: 'revoked token', schema: RevokedTokenSchema, idField: 'jti', affectsPipelines: false });

export const ClientTokenCutoffSchema = Type.Object({
  clientId: EntityId,
  /** Epoch seconds: tokens of this client issued (`iat`) before it are refused. */
  notBefore: Type.Integer({ minimum: 0 }),
  revokedAt: Type.String(),
  ...EntityMeta,
}, { additionalProperties: false });
export type ClientTokenCutoff = Static<typeof ClientTokenCutoffSchema>;

export const CLIENT_TOKEN_CUTOFF_KIND = defineEntityKind({ name: CLIENT_TOKEN_CUTOFFS, title: 'client token cut-off', schema: ClientTokenCutoffSchema, idField: 'clientId', affectsPipelines: false });

const PRUNE_EVERY_MS = 60_000;

@injectable()
export class RevocationList {
  readonly #store: Store;
  /** jti → exp (epoch s). */
  readonly #revoked = new Map<string, number>();
  /** clientId → notBefore (epoch s). */
  readonly #cutoffs = new Map<string, number>();
  #timer: NodeJS.Timeout | null = null;
  #unsubscribe: (() => void) | null = null;

  constructor(@inject(STORE) store: Store) {
    this.#store = store;
  }

  start(): void {
    this.#reload();
    // Synchronous with the store's change feed: the request after a revocation's 2xx is refused.
    this.#unsubscribe = this.#store.onChange((event) => {
      if (event.op === 'reset') return this.#reload();
      if (event.kind === REVOKED_TOKENS) {
        const entry = this.#store.get(REVOKED_TOKENS, event.id) as RevokedToken | undefined;
        if (event.op === 'delete' || !entry) this.#revoked.delete(event.id);
        else this.#revoked.set(entry.jti, entry.exp);
      } else if (event.kind === CLIENT_TOKEN_CUTOFFS) {
        const entry = this.#store.get(CLIENT_TOKEN_CUTOFFS, event.id) as ClientTokenCutoff | undefined;
        if (event.op === 'delete' || !entry) this.#cutoffs.delete(event.id);
        else this.#cutoffs.set(entry.clientId, entry.notBefore);
      }
    });
    this.#timer = setInterval(() => void this.prune(), PRUNE_EVERY_MS);
    this.#timer.unref();
  }

  stop(): void {
    this.#unsubscribe?.();
    if (this.#timer) clearInterval(this.#timer);
  }

  isRevoked(jti: string | undefined): boolean {
    return jti !== undefined && this.#revoked.has(jti);
  }

  /** Epoch seconds before which the client's tokens are refused (0: no cut-off). */
  clientNotBefore(clientId: string): number {
    return this.#cutoffs.get(clientId) ?? 0;
  }

  /** Whether a token of `clientId` issued at `iat` (epoch s) falls before the client's cut-off. */
  isIssuedBeforeCutoff(clientId: string, iat: unknown): boolean {
    const notBefore = this.#cutoffs.get(clientId);
    if (notBefore === undefined) return false;
    // A token without a usable iat cannot prove it came after the cut-off.
    return typeof iat !== 'number' || iat < notBefore;
  }

  /** Revoke until `exp` (epoch seconds); resolves once durable. */
  async revoke(jti: string, clientId: string, exp: number): Promise<void> {
    if (this.#revoked.has(jti)) return;
    const now = new Date().toISOString();
    await this.#store.put(REVOKED_TOKENS, jti, { jti, clientId, exp, revokedAt: now, version: 1, createdAt: now, updatedAt: now });
  }

  /**
   * Revoke every token of `clientId` issued until now; resolves once durable with the cut-off
   * (epoch seconds). `iat` has a one-second resolution, so the cut-off is the next second: tokens
   * issued during the current second are refused too (the token endpoint waits for the cut-off
   * before issuing, see `clientNotBefore`).
   */
  async revokeClientTokens(clientId: string, nowMs = Date.now()): Promise<number> {
    const notBefore = Math.floor(nowMs / 1000) + 1;
    const previous = this.#store.get(CLIENT_TOKEN_CUTOFFS, clientId) as ClientTokenCutoff | undefined;
    if (previous && previous.notBefore >= notBefore) return previous.notBefore;
    const now = new Date(nowMs).toISOString();
    await this.#store.put(CLIENT_TOKEN_CUTOFFS, clientId, {
      clientId, notBefore, revokedAt: now, version: (previous?.version ?? 0) + 1, createdAt: previous?.createdAt ?? now, updatedAt: now,
    });
    return notBefore;
  }

  /** Drop entries that could not refuse anything any more: their tokens have expired. */
  async prune(nowSeconds = Math.floor(Date.now() / 1000)): Promise<void> {
    const expired = [...this.#revoked].filter(([, exp]) => exp < nowSeconds).map(([jti]) => jti);
    const stale = [...this.#cutoffs].filter(([, notBefore]) => notBefore + MAX_GATEWAY_TOKEN_LIFETIME_SECONDS < nowSeconds).map(([clientId]) => clientId);
    await Promise.all([
      ...expired.map((jti) => this.#store.delete(REVOKED_TOKENS, jti)),
      ...stale.map((clientId) => this.#store.delete(CLIENT_TOKEN_CUTOFFS, clientId)),
    ]);
  }

  #reload(): void {
    this.#revoked.clear();
    this.#cutoffs.clear();
    for (const entry of this.#store.list(REVOKED_TOKENS) as RevokedToken[]) this.#revoked.set(entry.jti, entry.exp);
    for (const entry of this.#store.list(CLIENT_TOKEN_CUTOFFS) as ClientTokenCutoff[]) this.#cutoffs.set(entry.clientId, entry.notBefore);
  }
}
