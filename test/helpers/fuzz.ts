/**
 * Shared pieces of the property-based suites (test/fuzz/): how many inputs to generate, a seeded
 * `fc.assert` that prints its seed, a keep-alive HTTP client (thousands of requests per property
 * would otherwise spend their time opening sockets), and the checks every family shares: the shape
 * of an error body and the health of the gateway's compiled configuration.
 */
import fc from 'fast-check';
import { Pool, type Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestGateway } from './gateway.js';

/** Inputs per family in CI. */
export const DEFAULT_FUZZ_RUNS = 10_000;

/**
 * `PORTCULLIS_FUZZ_RUNS`: a number overrides the count (`50000`), `x<k>` multiplies it (`x10`).
 * A family that splits its inputs over several properties passes its share with `fraction`.
 */
export function fuzzRuns(fraction = 1): number {
  const raw = process.env.PORTCULLIS_FUZZ_RUNS?.trim();
  let total = DEFAULT_FUZZ_RUNS;
  if (raw) {
    const multiply = /^[x*](\d+(\.\d+)?)$/i.exec(raw);
    const value = multiply ? DEFAULT_FUZZ_RUNS * Number(multiply[1]) : Number(raw);
    if (!Number.isFinite(value) || value <= 0)
      throw new Error(`PORTCULLIS_FUZZ_RUNS must be a positive number or x<factor>, got ${raw}`);
    total = value;
  }
  return Math.max(1, Math.round(total * fraction));
}

/** The seed of a run: `PORTCULLIS_FUZZ_SEED` replays a failure, otherwise a fresh one. */
export function fuzzSeed(): number {
  const raw = process.env.PORTCULLIS_FUZZ_SEED;
  return raw ? Number(raw) : (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0;
}

/**
 * `fc.assert(fc.asyncProperty(arbitrary, predicate), { numRuns, seed })` with a known seed: on
 * failure the error names the seed, the counterexample and how to replay it. With
 * `PORTCULLIS_FUZZ_COLLECT=1` failures are collected instead (distinct messages, one example each)
 * and printed, so that one run lists every class of defect rather than the first.
 */
export async function checkProperty<T>(
  name: string,
  arbitrary: fc.Arbitrary<T>,
  predicate: (value: T) => Promise<void>,
  runs: number,
): Promise<void> {
  const seed = fuzzSeed();
  if (process.env.PORTCULLIS_FUZZ_COLLECT) {
    const found = new Map<string, { count: number; message: string; example: string }>();
    await fc.assert(
      fc.asyncProperty(arbitrary, async (value) => {
        try {
          await predicate(value);
        } catch (error) {
          const message = (error as Error).message;
          const key = message
            .replace(/"[^"]*"/g, '"…"')
            .replace(/\d+/g, 'N')
            .slice(0, 90);
          const entry = found.get(key) ?? { count: 0, message, example: safeStringify(value).slice(0, 600) };
          entry.count++;
          found.set(key, entry);
        }
      }),
      { numRuns: runs, seed },
    );
    console.log(`\n=== ${name}: seed ${seed}, ${runs} runs, ${found.size} distinct failures`);
    for (const { count, message, example } of found.values())
      console.log(`--- ×${count}: ${message.slice(0, 500)}\n    example: ${example}`);
    if (found.size > 0) throw new Error(`${found.size} distinct failures of "${name}" (seed ${seed}); see the output`);
    return;
  }
  try {
    // Shrinking on: the report shows a minimal counterexample (on a gateway whose state the run changed).
    await fc.assert(fc.asyncProperty(arbitrary, predicate), { numRuns: runs, seed });
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause;
    const message = `fuzz property "${name}" failed with seed ${seed} (replay: PORTCULLIS_FUZZ_SEED=${seed} PORTCULLIS_FUZZ_RUNS=${runs})\n${cause?.message ? `${cause.message}\n` : ''}${(error as Error).message}`;
    throw Object.assign(new Error(message), { cause: error });
  }
}

/**
 * A data directory for a fuzzed gateway: in memory (/dev/shm) when available, because every admin
 * write is fsynced and thousands of writes on a shared disk take minutes. The caller removes it.
 */
export function fuzzDataDir(): string {
  return mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'portcullis-fuzz-'));
}

export interface FuzzResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** A keep-alive client for one origin; requests never throw for HTTP statuses. */
export class FuzzClient {
  #pool: Pool;
  readonly #origin: string;
  readonly #connections: number;

  constructor(origin: string, connections = 2) {
    this.#origin = origin;
    this.#connections = connections;
    this.#pool = this.#newPool();
  }

  #newPool(): Pool {
    return new Pool(this.#origin, {
      connections: this.#connections,
      keepAliveTimeout: 30_000,
      headersTimeout: 15_000,
      bodyTimeout: 15_000,
    });
  }

  /**
   * Send one request. A request undici itself refuses to send (an invalid header) throws
   * `UND_ERR_INVALID_ARG`; the pool is then replaced, as undici may leave it stalled.
   */
  async request(
    method: string,
    path: string,
    options: { headers?: Record<string, string>; body?: string | Buffer } = {},
  ): Promise<FuzzResponse> {
    try {
      const res = await this.#pool.request({
        method: method as Dispatcher.HttpMethod,
        path,
        headers: options.headers,
        body: options.body,
        signal: AbortSignal.timeout(20_000),
      });
      const text = await res.body.text();
      return { status: res.statusCode, headers: res.headers as IncomingHttpHeaders, text };
    } catch (error) {
      if ((error as { code?: string }).code === 'UND_ERR_INVALID_ARG') {
        const stalled = this.#pool;
        this.#pool = this.#newPool();
        void stalled.destroy();
      }
      throw error;
    }
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}

/** Why a response is not an RFC-shaped error (`{error, error_description}` JSON), or null. */
export function errorBodyProblem(res: FuzzResponse): string | null {
  if (res.status < 400) return null;
  {
    if (!String(res.headers['content-type'] ?? '').startsWith('application/json'))
      return `content-type ${String(res.headers['content-type'])}`;
    let body: unknown;
    try {
      body = JSON.parse(res.text);
    } catch {
      return `not JSON: ${res.text.slice(0, 200)}`;
    }
    const b = body as { error?: unknown; error_description?: unknown };
    if (typeof b !== 'object' || b === null || typeof b.error !== 'string' || typeof b.error_description !== 'string')
      return `not {error, error_description}: ${res.text.slice(0, 200)}`;
    if (!/^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/.test(b.error))
      return `error code outside RFC 6749 §5.2 characters: ${b.error}`;
  }
  return null;
}

/** Fail with the response when it is a 5xx (for a client mistake) or a malformed error. */
export function assertClientError(res: FuzzResponse, what: string): void {
  if (res.status >= 500) throw new Error(`${what}: ${res.status} ${res.text.slice(0, 300)}`);
  const problem = errorBodyProblem(res);
  if (problem) throw new Error(`${what}: ${res.status} with a malformed error body (${problem})`);
}

/**
 * Why the gateway's compiled configuration does not match what is stored, or null: every enabled
 * route must be compiled at its stored version (a frozen compilation shows as an old version or a
 * missing route) with a pipeline (a route without one answers 503).
 */
export function compiledStateProblem(gw: TestGateway): string | null {
  const stored = gw.gateway.store.list('routes').filter((r) => r.enabled !== false);
  const compiled = new Map<string, { version: number | undefined; pipeline: boolean }>();
  for (const route of compiledRoutes(gw))
    compiled.set(route.id, { version: route.route.version, pipeline: route.pipeline !== null });
  for (const route of stored) {
    const id = String(route.id);
    const c = compiled.get(id);
    if (!c) return `route "${id}" (version ${route.version}) is stored but not compiled`;
    if (c.version !== route.version)
      return `route "${id}" is stored at version ${route.version} but compiled at version ${c.version} (compilation frozen)`;
    if (!c.pipeline) return `route "${id}" compiled without a pipeline (it answers 503)`;
  }
  return null;
}

/** The compiled routes of the live snapshot. */
function compiledRoutes(
  gw: TestGateway,
): ReadonlyArray<{ id: string; route: { version?: number }; pipeline: unknown }> {
  return gw.gateway.compiled.snapshot.routes.routes;
}

/** Replace one character inside a token (not the last of a segment, whose low bits may not count). */
export function tamper(token: string, position: number): string {
  const candidates = [...token]
    .map((_c, i) => i)
    .filter((i) => token[i] !== '.' && token[i + 1] !== undefined && token[i + 1] !== '.');
  const i = candidates[position % candidates.length]!;
  const replacement = token[i] === 'A' ? 'B' : 'A';
  return token.slice(0, i) + replacement + token.slice(i + 1);
}

/** fast-check's printer, or JSON when the value is too deep for it. */
function safeStringify(value: unknown): string {
  try {
    return fc.stringify(value);
  } catch {
    try {
      return JSON.stringify(value);
    } catch {
      return String(value);
    }
  }
}
