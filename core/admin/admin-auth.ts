/**
 * Admin credentials: the password is stored only as an scrypt hash; a request's HTTP Basic
 * credential is checked in constant time. scrypt is slow on purpose, so a credential that already
 * verified is remembered as an HMAC under a per-process key (never the password itself). Other
 * attempts are counted per client address before they are hashed (LoginLimiter) and hashing runs
 * through a bounded gate (HashingGate); `checkLogin` is that sequence for the admin API and the
 * back office alike.
 */
import { createHmac, randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { ServiceBusyError, TooManyRequestsError } from '../errors.js';

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
    return new Promise<void>((resolve) => this.#waiting.push(() => { this.#running++; resolve(); })).then(run);
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

  /** Whether a hash of this password is running now (a new attempt with it would share it). */
  isBeingChecked(password: string): boolean {
    const hash = this.#getHash();
    return hash !== undefined && this.#inFlight.has(this.#inFlightKey(password, hash));
  }

  #inFlightKey(password: string, hash: string): string {
    return `${createHmac('sha256', this.#cacheKey).update(password).digest('base64')}$${hash}`;
  }

  /**
   * Verify with scrypt; throws ServiceBusyError when the hashing gate is saturated. Requests with
   * the same password while its hash runs share that hash (a client's parallel first requests).
   */
  verify(user: string, password: string): Promise<boolean> {
    const hash = this.#getHash();
    if (!hash) return Promise.resolve(false);
    const userOk = safeEqual(user, this.#username);
    const key = this.#inFlightKey(password, hash);
    let checking = this.#inFlight.get(key);
    if (!checking) {
      const started = this.#gate.tryRun(() => verifyPassword(password, hash));
      if (!started) return Promise.reject(new ServiceBusyError('Too many logins are being checked; try again shortly'));
      checking = started.then((passwordOk) => {
        if (passwordOk) {
          this.#verified = createHmac('sha256', this.#cacheKey).update(password).digest();
          this.#verifiedFor = hash;
        }
        return passwordOk;
      }).finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, checking);
    }
    return checking.then((passwordOk) => userOk && passwordOk);
  }
}

/**
 * At most `limit` password attempts per client address per window (failed, still running, or
 * refused because hashing was saturated); a success clears the address. The attempt is counted
 * before the password is hashed, so parallel guesses cannot all pass the check while the first ones
 * are still hashing.
 */
export class LoginLimiter {
  readonly #attempts = new Map<string, { count: number; windowStart: number }>();
  readonly #limit: number;
  readonly #windowMs: number;

  constructor(limit = 5, windowSeconds = 60) {
    this.#limit = limit;
    this.#windowMs = windowSeconds * 1000;
  }

  /** Seconds to wait when blocked, else 0. */
  blockedFor(address: string): number {
    const entry = this.#attempts.get(address);
    if (!entry) return 0;
    const elapsed = Date.now() - entry.windowStart;
    if (elapsed > this.#windowMs) {
      this.#attempts.delete(address);
      return 0;
    }
    return entry.count >= this.#limit ? Math.max(1, Math.ceil((this.#windowMs - elapsed) / 1000)) : 0;
  }

  /** Count an attempt now (synchronously); returns the seconds to wait instead when blocked. */
  reserve(address: string): number {
    const wait = this.blockedFor(address);
    if (wait > 0) return wait;
    if (this.#attempts.size >= SWEEP_ABOVE) this.#sweep();
    const entry = this.#attempts.get(address);
    if (entry) entry.count++;
    else this.#attempts.set(address, { count: 1, windowStart: Date.now() });
    return 0;
  }

  succeed(address: string): void {
    this.#attempts.delete(address);
  }

  /** Drop ended windows, so guesses from many addresses cannot grow the map without bound. */
  #sweep(): void {
    const now = Date.now();
    for (const [address, entry] of this.#attempts) if (now - entry.windowStart > this.#windowMs) this.#attempts.delete(address);
  }
}

const SWEEP_ABOVE = 10_000;

/**
 * Check a login attempt: a credential that verified before is answered at once (unless the address
 * is blocked); any other attempt is counted against `address` first (429 with Retry-After when over
 * the limit), then hashed within the gate (503 with Retry-After when saturated). A success clears
 * the count.
 */
export async function checkLogin(auth: AdminAuthenticator, limiter: LoginLimiter, address: string, user: string, password: string): Promise<boolean> {
  // A blocked address is refused even with the right password: otherwise "429 unless right" would
  // answer guesses at full speed.
  const blocked = limiter.blockedFor(address);
  if (blocked > 0) throw tooMany(blocked);
  if (auth.verifyCached(user, password) === true) {
    limiter.succeed(address);
    return true;
  }
  // Repeating a password whose hash is running is no new guess and costs no hash: not counted.
  const counted = !auth.isBeingChecked(password);
  if (counted) {
    const wait = limiter.reserve(address);
    if (wait > 0) throw tooMany(wait);
  }
  // An attempt refused because hashing is saturated stays counted: a flood spends its own quota.
  const ok = await auth.verify(user, password);
  if (ok) limiter.succeed(address);
  return ok;
}

function tooMany(seconds: number): TooManyRequestsError {
  return new TooManyRequestsError(`Too many failed logins; try again in ${seconds} s`, { 'retry-after': String(seconds) });
}
