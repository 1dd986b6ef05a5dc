/**
 * Admin credentials: the password is stored only as an scrypt hash; a request's HTTP Basic
 * credential is checked in constant time. scrypt is slow on purpose, so a credential that already
 * verified is remembered as an HMAC under a per-process key (never the password itself).
 */
import { createHmac, randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 } as const;

function scrypt(password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCallback(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))));
}

/** `scrypt$N$r$p$salt$hash`, base64url parts. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scrypt(password, Buffer.from(salt, 'base64url'), expected.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: 256 * Number(n) * Number(r) + 1024 * 1024 });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A generated admin password: 24 random bytes, URL-safe. */
export function generatePassword(): string {
  return randomBytes(24).toString('base64url');
}

/** Parse `Authorization: Basic …` into user and password; null when absent or malformed. */
export function parseBasicAuth(header: string | undefined): { user: string; password: string } | null {
  if (!header || header.length < 7 || header.slice(0, 6).toLowerCase() !== 'basic ') return null;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Constant-time string equality (lengths may differ: both sides are hashed first). */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHmac('sha256', COMPARE_KEY).update(a).digest();
  const hb = createHmac('sha256', COMPARE_KEY).update(b).digest();
  return timingSafeEqual(ha, hb);
}
const COMPARE_KEY = randomBytes(32);

export class AdminAuthenticator {
  readonly #username: string;
  readonly #getHash: () => string | undefined;
  readonly #cacheKey = randomBytes(32);
  #verified: Buffer | null = null;
  #verifiedFor: string | undefined;

  constructor(username: string, getHash: () => string | undefined) {
    this.#username = username;
    this.#getHash = getHash;
  }

  /** Whether the request carries the admin credentials. */
  async check(req: IncomingMessage): Promise<boolean> {
    const credentials = parseBasicAuth(req.headers.authorization);
    if (!credentials) return false;
    return this.verify(credentials.user, credentials.password);
  }

  async verify(user: string, password: string): Promise<boolean> {
    const hash = this.#getHash();
    if (!hash) return false;
    const userOk = safeEqual(user, this.#username);
    const mac = createHmac('sha256', this.#cacheKey).update(password).digest();
    if (this.#verified && this.#verifiedFor === hash && timingSafeEqual(mac, this.#verified)) return userOk;
    const passwordOk = await verifyPassword(password, hash);
    if (passwordOk) {
      this.#verified = mac;
      this.#verifiedFor = hash;
    }
    return userOk && passwordOk;
  }
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
