/**
 * Back-office sessions: random 256-bit tokens in an HttpOnly, SameSite=Strict cookie, ending after
 * a period without activity.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { readCookie } from '../../core/http/http-utils.js';

export const SESSION_COOKIE = 'portcullis_session';

export class SessionStore {
  readonly #sessions = new Map<string, { user: string; lastSeen: number }>();
  readonly #idleMs: number;

  constructor(idleSeconds: number) {
    this.#idleMs = idleSeconds * 1000;
  }

  create(user: string): string {
    this.#sweep();
    const token = randomBytes(32).toString('base64url');
    this.#sessions.set(token, { user, lastSeen: Date.now() });
    return token;
  }

  /** The session's user if the token is live; touching it extends the idle period. */
  touch(token: string | null): string | null {
    if (!token) return null;
    const session = this.#sessions.get(token);
    if (!session) return null;
    if (Date.now() - session.lastSeen > this.#idleMs) {
      this.#sessions.delete(token);
      return null;
    }
    session.lastSeen = Date.now();
    return session.user;
  }

  destroy(token: string | null): void {
    if (token) this.#sessions.delete(token);
  }

  #sweep(): void {
    const now = Date.now();
    for (const [token, session] of this.#sessions) if (now - session.lastSeen > this.#idleMs) this.#sessions.delete(token);
  }
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
