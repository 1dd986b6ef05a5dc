/**
 * Revoked token ids (`jti`), kept until the token's own expiry and refused everywhere: persisted as
 * a small entity kind so a restart does not bring revoked tokens back, indexed in memory for an
 * O(1) check, pruned once they could not be used anyway.
 */
import { inject, injectable } from 'tsyringe';
import { Type, type Static } from '@sinclair/typebox';
import { STORE } from '../tokens.js';
import type { Store } from '../config/store.js';
import { defineEntityKind, EntityMeta } from '../config/entities.js';

export const REVOKED_TOKENS = 'revoked-tokens';

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

const PRUNE_EVERY_MS = 60_000;

@injectable()
export class RevocationList {
  readonly #store: Store;
  readonly #revoked = new Map<string, number>();
  #timer: NodeJS.Timeout | null = null;
  #unsubscribe: (() => void) | null = null;

  constructor(@inject(STORE) store: Store) {
    this.#store = store;
  }

  start(): void {
    this.#reload();
    this.#unsubscribe = this.#store.onChange((event) => {
      if (event.op === 'reset') return this.#reload();
      if (event.kind !== REVOKED_TOKENS) return;
      const entry = this.#store.get(REVOKED_TOKENS, event.id) as RevokedToken | undefined;
      if (event.op === 'delete' || !entry) this.#revoked.delete(event.id);
      else this.#revoked.set(entry.jti, entry.exp);
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

  /** Revoke until `exp` (epoch seconds); resolves once durable. */
  async revoke(jti: string, clientId: string, exp: number): Promise<void> {
    if (this.#revoked.has(jti)) return;
    const now = new Date().toISOString();
    await this.#store.put(REVOKED_TOKENS, jti, { jti, clientId, exp, revokedAt: now, version: 1, createdAt: now, updatedAt: now });
  }

  /** Drop entries whose tokens have expired. */
  async prune(nowSeconds = Math.floor(Date.now() / 1000)): Promise<void> {
    const expired = [...this.#revoked].filter(([, exp]) => exp < nowSeconds).map(([jti]) => jti);
    await Promise.all(expired.map((jti) => this.#store.delete(REVOKED_TOKENS, jti)));
  }

  #reload(): void {
    this.#revoked.clear();
    for (const entry of this.#store.list(REVOKED_TOKENS) as RevokedToken[]) this.#revoked.set(entry.jti, entry.exp);
  }
}
