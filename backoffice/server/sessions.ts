/**
 * Back-office sessions: random 256-bit tokens in an HttpOnly, SameSite=Strict cookie, ending after
 * a period without activity. A session is an entry of the `sessions` namespace of the runtime state
 * store, expiring after the idle period, so it works on whichever process serves the admin listener
 * and survives a restart (the namespace is not durable: on the embedded engine sessions survive a
 * process crash or restart, not a reboot; losing them costs a login). The store holds a hash of the
 * token, never the token. Activity refreshes the entry's expiry at most once per `REFRESH_EVERY_MS`
 * (5 s) per process: a busy WebSocket does not write on every message.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { readCookie, type StateNamespace, type StateStore } from './door.js';

export const SESSION_COOKIE = 'portcullis_session';

/**
 * A session confirmed by the store within this period (or a quarter of the idle timeout, if
 * shorter) is trusted without asking the store again, and its expiry not refreshed: it bounds how
 * long a logout on another process may go unnoticed here, and how much earlier than the idle
 * timeout a session may end.
 */
const REFRESH_EVERY_MS = 5_000;

interface Session {
  user: string;
}

export class SessionStore {
  readonly #namespace: StateNamespace;
  readonly #idleMs: number;
  readonly #refreshEveryMs: number;
  /** Token hash → user and when the store last confirmed and refreshed it. */
  readonly #recent = new Map<string, { user: string; refreshedAt: number }>();

  constructor(state: StateStore, idleSeconds: number) {
    this.#namespace = state.namespace('sessions');
    this.#idleMs = idleSeconds * 1000;
    this.#refreshEveryMs = Math.min(REFRESH_EVERY_MS, this.#idleMs / 4);
  }

  async create(user: string): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    const id = sessionId(token);
    await this.#namespace.set(id, { user } satisfies Session, this.#idleMs);
    this.#remember(id, user);
    return token;
  }

  /**
   * The session's user if the token is live; touching it extends the idle period. Rejects with
   * StateUnavailableError when the store must be asked and cannot be reached.
   */
  async touch(token: string | null): Promise<string | null> {
    if (!token) return null;
    const id = sessionId(token);
    const recent = this.#recent.get(id);
    if (recent && Date.now() - recent.refreshedAt < this.#refreshEveryMs) return recent.user;
    const session = await this.#namespace.get<{ user: string }>(id);
    if (!session || typeof session.user !== 'string') {
      this.#recent.delete(id);
      return null;
    }
    await this.#namespace.set(id, session, this.#idleMs);
    this.#remember(id, session.user);
    return session.user;
  }

  async destroy(token: string | null): Promise<void> {
    if (!token) return;
    const id = sessionId(token);
    this.#recent.delete(id);
    await this.#namespace.delete(id);
  }

  #remember(id: string, user: string): void {
    const now = Date.now();
    if (this.#recent.size >= SWEEP_ABOVE)
      for (const [key, entry] of this.#recent)
        if (now - entry.refreshedAt >= this.#refreshEveryMs) this.#recent.delete(key);
    this.#recent.set(id, { user, refreshedAt: now });
  }
}

const SWEEP_ABOVE = 1_000;

/** The store's key for a token: its SHA-256, so a look at the state store yields no usable cookie. */
function sessionId(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

export function sessionToken(req: IncomingMessage): string | null {
  return readCookie(req.headers.cookie, SESSION_COOKIE);
}

export function sessionCookie(token: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

export function clearedCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
}
