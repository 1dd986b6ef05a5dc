/**
 * Admin credentials: the password is stored only as an scrypt hash; a request's HTTP Basic
 * credential is checked in constant time. scrypt is slow on purpose, so a credential that already
 * verified is remembered as an HMAC under a per-process key (never the password itself). Other
 * attempts are counted per client address in the runtime state store before they are hashed
 * (LoginLimiter) and hashing runs
 * through a bounded gate (HashingGate); `checkLogin` is that sequence for the admin API and the
 * back office alike.
 */
import { createHmac, randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { ServiceBusyError, TooManyRequestsError } from '../errors.js';
import type { StateNamespace } from '../state/state-store.js';

const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 } as const;

function scrypt(password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCallback(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
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
  const key = await scrypt(password, Buffer.from(salt, 'base64url'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: 256 * Number(n) * Number(r) + 1024 * 1024,
  });
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

/**
 * Bounds concurrent password hashing: at most `concurrency` scrypt calls run and `queue` more wait;
 * anything beyond is refused at once, so a flood of guesses cannot queue seconds of CPU ahead of the
 * admin's own requests.
 */
export class HashingGate {
  readonly #concurrency: number;
  readonly #queueLimit: number;
  readonly #waiting: Array<() => void> = [];
  #running = 0;
  /** Password hashes started since creation (observability and tests). */
  started = 0;

  constructor(concurrency = 2, queue = 4) {
    this.#concurrency = concurrency;
    this.#queueLimit = queue;
  }

  /** Run `hash` when a slot is free; null (synchronously decided) when the gate is saturated. */
  tryRun<T>(hash: () => Promise<T>): Promise<T> | null {
    if (this.#running >= this.#concurrency && this.#waiting.length >= this.#queueLimit) return null;
    const run = async (): Promise<T> => {
      this.started++;
      try {
        return await hash();
      } finally {
        this.#running--;
        this.#waiting.shift()?.();
      }
    };
    if (this.#running < this.#concurrency) {
      this.#running++;
      return run();
    }
    return new Promise<void>((resolve) =>
      this.#waiting.push(() => {
        this.#running++;
        resolve();
      }),
    ).then(run);
  }
}

export class AdminAuthenticator {
  readonly #username: string;
  readonly #getHash: () => string | undefined;
  readonly #cacheKey = randomBytes(32);
  readonly #gate: HashingGate;
  #verified: Buffer | null = null;
  #verifiedFor: string | undefined;
  /** Hashes running, by password MAC and stored hash. */
  readonly #inFlight = new Map<string, Promise<boolean>>();

  constructor(username: string, getHash: () => string | undefined, gate = new HashingGate()) {
    this.#username = username;
    this.#getHash = getHash;
    this.#gate = gate;
  }

  /** Password hashes started (each wrong guess that got past the limiter costs one). */
  get hashesStarted(): number {
    return this.#gate.started;
  }

  /**
   * Whether `user`/`password` are the admin credentials, answered without hashing when this exact
   * password verified before; null when it would need a hash (the caller counts the attempt first).
   */
  verifyCached(user: string, password: string): boolean | null {
    const hash = this.#getHash();
    if (!hash) return false;
    if (!this.#verified || this.#verifiedFor !== hash) return null;
    const mac = createHmac('sha256', this.#cacheKey).update(password).digest();
    if (!timingSafeEqual(mac, this.#verified)) return null;
    return safeEqual(user, this.#username);
  }

  #inFlightKey(password: string, hash: string): string {
    return `${createHmac('sha256', this.#cacheKey).update(password).digest('base64')}$${hash}`;
  }

  /**
   * Verify with scrypt; rejects with ServiceBusyError when the hashing gate is saturated. The first
   * attempt with a password runs `attempt.count` (the limiter) before hashing; attempts with the
   * same password while that runs share its count and hash after `attempt.joined` (no new guess).
   * The attempt is registered synchronously, before any await, so parallel requests find it.
   */
  verify(
    user: string,
    password: string,
    attempt: { count?: () => Promise<void>; joined?: () => Promise<void> } = {},
  ): Promise<boolean> {
    const hash = this.#getHash();
    if (!hash) return Promise.resolve(false);
    const userOk = safeEqual(user, this.#username);
    const key = this.#inFlightKey(password, hash);
    let checking = this.#inFlight.get(key);
    if (checking) {
      const shared = checking;
      return (attempt.joined ? attempt.joined().then(() => shared) : shared).then((passwordOk) => userOk && passwordOk);
    }
    const run = async (): Promise<boolean> => {
      await attempt.count?.();
      const started = this.#gate.tryRun(() => verifyPassword(password, hash));
      if (!started) throw new ServiceBusyError('Too many logins are being checked; try again shortly');
      const passwordOk = await started;
      if (passwordOk) {
        this.#verified = createHmac('sha256', this.#cacheKey).update(password).digest();
        this.#verifiedFor = hash;
      }
      return passwordOk;
    };
    checking = run().finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, checking);
    return checking.then((passwordOk) => userOk && passwordOk);
  }
}

/**
 * At most `limit` password checks per client address per window (from its first attempt), counted in the runtime
 * state store so the limit holds across processes and instances. An attempt is counted by one
 * atomic `consume` BEFORE its password is hashed (refused attempts count too), so parallel guesses
 * cannot all pass while the first ones are still hashing. Once an address has used its window, a
 * marker entry (expiring with the window) blocks it even with the right password. A password that
 * verifies ends the window (the next attempt opens a new one, with a new counter).
 * While the state store is unreachable every check rejects with StateUnavailableError (503): an
 * unlimited guess rate is worse than an admin waiting for the store.
 */
/** The state namespace of login-attempt counts (admin API and back office, by key prefix). */
export const LOGIN_ATTEMPTS_NAMESPACE = 'login-attempts';

export class LoginLimiter {
  readonly #namespace: StateNamespace;
  readonly #prefix: string;
  readonly #limit: number;
  readonly #windowMs: number;

  /** `prefix` separates the limiters that share a namespace (admin API, back office). */
  constructor(namespace: StateNamespace, prefix: string, limit = 5, windowSeconds = 60) {
    this.#namespace = namespace;
    this.#prefix = prefix;
    this.#limit = limit;
    this.#windowMs = windowSeconds * 1000;
  }

  /** Seconds to wait when the address has used its window, else 0 (nothing counted). */
  async blockedFor(address: string): Promise<number> {
    const until = await this.#namespace.get<number>(this.#blockKey(address));
    return typeof until === 'number' && until > Date.now() ? Math.max(1, Math.ceil((until - Date.now()) / 1000)) : 0;
  }

  /** Count an attempt; rejects with TooManyRequestsError (Retry-After) when over the limit. */
  async reserve(address: string): Promise<void> {
    const now = Date.now();
    const start = await this.#windowStart(address, now);
    const decision = await this.#namespace.consume(
      this.#prefix + address,
      [{ name: 'window', limit: this.#limit, start, end: start + this.#windowMs }],
      { countRefused: true, now },
    );
    const window = decision.windows[0]!;
    if (window.remaining === 0)
      await this.#namespace.set(this.#blockKey(address), window.end, Math.max(1, window.end - now));
    if (!decision.allowed) throw tooMany(Math.max(1, Math.ceil(decision.retryAfterMs / 1000)));
  }

  /**
   * The address's window starts at its first counted attempt (set-if-absent: one start for every
   * instance), not on a clock boundary: a flood spanning a boundary would get twice the limit.
   */
  async #windowStart(address: string, now: number): Promise<number> {
    const key = this.#startKey(address);
    if (await this.#namespace.setIfAbsent(key, now, this.#windowMs)) return now;
    const start = await this.#namespace.get<number>(key);
    // A start slightly ahead of `now` (a concurrent caller's clock read later) is the same window.
    return typeof start === 'number' && now < start + this.#windowMs ? start : now;
  }

  /**
   * For a credential verified before (no hash, no count): rejects with 429 when the address is
   * blocked, else ends its window if one is open. Reads only, in the common case of no window:
   * the admin API runs this on every request.
   */
  async succeedUnlessBlocked(address: string): Promise<void> {
    const [until, start] = await Promise.all([
      this.#namespace.get<number>(this.#blockKey(address)),
      this.#namespace.get(this.#startKey(address)),
    ]);
    const now = Date.now();
    if (typeof until === 'number' && until > now) throw tooMany(Math.max(1, Math.ceil((until - now) / 1000)));
    if (start !== undefined) await this.succeed(address);
  }

  /** A verified password starts the address afresh: its next attempt opens a new window. */
  async succeed(address: string): Promise<void> {
    await Promise.all([
      this.#namespace.delete(this.#startKey(address)),
      this.#namespace.delete(this.#blockKey(address)),
    ]);
  }

  #startKey(address: string): string {
    return `${this.#prefix}start|${address}`;
  }

  #blockKey(address: string): string {
    return `${this.#prefix}blocked|${address}`;
  }
}

/**
 * Check a login attempt: a credential that verified before is answered at once (unless the address
 * is blocked); any other attempt is counted against `address` first (429 with Retry-After when over
 * the limit), then hashed within the gate (503 with Retry-After when saturated). Concurrent attempts
 * with the same password share one count and one hash (a client's parallel first requests).
 */
export async function checkLogin(
  auth: AdminAuthenticator,
  limiter: LoginLimiter,
  address: string,
  user: string,
  password: string,
): Promise<boolean> {
  // A blocked address is refused even with the right password: otherwise "429 unless right" would
  // answer guesses at full speed.
  if (auth.verifyCached(user, password) === true) {
    await limiter.succeedUnlessBlocked(address);
    return true;
  }
  // An attempt refused because hashing is saturated stays counted: a flood spends its own quota.
  const ok = await auth.verify(user, password, {
    count: () => limiter.reserve(address),
    joined: async () => {
      const blocked = await limiter.blockedFor(address);
      if (blocked > 0) throw tooMany(blocked);
    },
  });
  if (ok) await limiter.succeed(address);
  return ok;
}

function tooMany(seconds: number): TooManyRequestsError {
  return new TooManyRequestsError(`Too many failed logins; try again in ${seconds} s`, {
    'retry-after': String(seconds),
  });
}
