/**
 * Back-office sessions: random 256-bit tokens in an HttpOnly, SameSite=Strict cookie, ending after
 * a period without activity; and a login limiter so passwords cannot be guessed at speed.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

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
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim() || null;
  }
  return null;
}

export function sessionCookie(token: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

export function clearedCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
}

/** At most `limit` failed logins per client address per window; successes do not count. */
export class LoginLimiter {
  readonly #failures = new Map<string, { count: number; windowStart: number }>();
  readonly #limit: number;
  readonly #windowMs: number;

  constructor(limit = 5, windowSeconds = 60) {
    this.#limit = limit;
    this.#windowMs = windowSeconds * 1000;
  }

  /** Seconds to wait when blocked, else 0. */
  blockedFor(address: string): number {
    const entry = this.#failures.get(address);
    if (!entry) return 0;
    const elapsed = Date.now() - entry.windowStart;
    if (elapsed > this.#windowMs) {
      this.#failures.delete(address);
      return 0;
    }
    return entry.count >= this.#limit ? Math.ceil((this.#windowMs - elapsed) / 1000) : 0;
  }

  fail(address: string): void {
    const entry = this.#failures.get(address);
    if (!entry || Date.now() - entry.windowStart > this.#windowMs) this.#failures.set(address, { count: 1, windowStart: Date.now() });
    else entry.count++;
  }

  succeed(address: string): void {
    this.#failures.delete(address);
  }
}
