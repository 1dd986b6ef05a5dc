/**
 * Upstream connections: one undici Pool per (origin, connect timeout, TLS settings), kept alive and
 * shared by every route that targets it; pools no route uses any more are closed after each recompile.
 */
import { Pool } from 'undici';
import type { Logger } from 'pino';
import { tlsConnectOptions, tlsPoolKey, type UpstreamTls } from '../config/upstream-tls.js';

export interface UpstreamTarget {
  /** Origin, e.g. `http://127.0.0.1:3000`. */
  readonly origin: string;
  /** `host[:port]` sent as Host when the route rewrites it. */
  readonly host: string;
  /** Path prefixed to every forwarded path ('' for none). */
  readonly basePath: string;
  readonly weight: number;
  readonly pool: Pool;
}

/** What a target URL gives the proxy: its origin, Host and base path. */
export interface ParsedTarget {
  readonly origin: string;
  readonly host: string;
  readonly basePath: string;
}

/**
 * Parse a target URL as the proxy uses it; throws when `URL` or undici would refuse it (a port
 * above 65535, an unclosed IPv6 bracket…). The admin write path calls it too (`targetProblem`), so
 * a stored route always compiles.
 */
export function parseTarget(url: string): ParsedTarget {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new TypeError(`unsupported protocol ${parsed.protocol}`);
  if (parsed.hostname === '') throw new TypeError('no host');
  let basePath = parsed.pathname;
  while (basePath.endsWith('/')) basePath = basePath.slice(0, -1);
  return { origin: parsed.origin, host: parsed.host, basePath };
}

/** Why the proxy could not use `url` as a target, or null. */
export function targetProblem(url: string): string | null {
  try {
    parseTarget(url);
    return null;
  } catch (error) {
    return `Not a usable upstream URL: ${(error as Error).message}`;
  }
}

export class UpstreamPools {
  readonly #pools = new Map<string, Pool>();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  /**
   * A target for `url`, reusing the pool for its origin, connect timeout and TLS settings (files are
   * read here, at compile time; a file that cannot be read throws and the route answers 503).
   */
  target(url: string, weight: number, connectMs: number, tls?: UpstreamTls): UpstreamTarget {
    const parsed = parseTarget(url);
    const tlsOptions = tls && parsed.origin.startsWith('https:') ? tlsConnectOptions(tls) : null;
    // The key holds a digest of the TLS material, never the material itself.
    const key = `${parsed.origin}|${connectMs}|${tlsPoolKey(tlsOptions)}`;
    let pool = this.#pools.get(key);
    if (!pool) {
      pool = new Pool(parsed.origin, {
        connect: { timeout: connectMs, ...tlsOptions },
        keepAliveTimeout: 4_000,
        keepAliveMaxTimeout: 60_000,
        // Sized generously: the limit of concurrency is the client, not the gateway.
        connections: 1024,
      });
      this.#pools.set(key, pool);
    }
    return { origin: parsed.origin, host: parsed.host, basePath: parsed.basePath, weight, pool };
  }

  /** Close the pools not in `used`, gracefully (in-flight requests finish). */
  retain(used: ReadonlySet<Pool>): void {
    for (const [key, pool] of this.#pools) {
      if (used.has(pool)) continue;
      this.#pools.delete(key);
      pool.close().catch((error: Error) => this.#log.warn({ err: error }, 'closing an unused upstream pool failed'));
    }
  }

  async close(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.allSettled(pools.map((p) => p.close()));
  }
}

const CONNECT_FAILURES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const TIMEOUTS = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

/** Whether the request never reached the upstream, so another target may be tried. */
export function isConnectFailure(error: unknown): boolean {
  return CONNECT_FAILURES.has((error as NodeJS.ErrnoException)?.code ?? '');
}

export function isTimeout(error: unknown): boolean {
  return TIMEOUTS.has((error as NodeJS.ErrnoException)?.code ?? '');
}
