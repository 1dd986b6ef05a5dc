/**
 * Which embedded engine for runtime state: LMDB (`core/state/lmdb-state.ts`) against an
 * append-only journal prototype (an in-memory map, every write appended as a JSON line, group
 * commit with one fdatasync per batch, replay on open). Measures what the runtime users need:
 * durable puts/s (revocations), set-if-absent/s (one-time codes, replay caches), quota
 * increments/s, each with a realistic number of concurrent callers and one at a time, and the
 * time to reopen 100 000 entries. Run: `npm run build && node dist/bench/state-engines.js`
 * (BENCH_DIR picks the directory; it must be on a real disk, fsync on tmpfs measures nothing).
 */
import { mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { open as openFile, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LmdbStateStore } from '../core/state/lmdb-state.js';
import type { QuotaWindow } from '../core/state/state-store.js';

const HOUR = 3_600_000;

/** The journal prototype: what "an append-only journal with compaction" costs before compaction. */
class JournalPrototype {
  readonly #entries = new Map<string, { v: unknown; e: number }>();
  #file: FileHandle | null = null;
  #batch: string[] = [];
  #batchDurable = false;
  #batchWaiters: Array<() => void> = [];
  #scheduled = false;
  #writing: Promise<void> = Promise.resolve();

  constructor(readonly path: string) {}

  async open(): Promise<void> {
    if (existsSync(this.path)) {
      const now = Date.now();
      for (const line of readFileSync(this.path, 'utf8').split('\n')) {
        if (!line) continue;
        const record = JSON.parse(line) as { k: string; v?: unknown; e?: number; d?: 1 };
        if (record.d) this.#entries.delete(record.k);
        else if (record.e! > now) this.#entries.set(record.k, { v: record.v, e: record.e! });
      }
    }
    this.#file = await openFile(this.path, 'a');
  }

  get(key: string): unknown {
    const entry = this.#entries.get(key);
    return entry && entry.e > Date.now() ? entry.v : undefined;
  }

  set(key: string, value: unknown, ttlMs: number, durable: boolean): Promise<void> {
    const e = Date.now() + ttlMs;
    this.#entries.set(key, { v: value, e });
    return this.#append(JSON.stringify({ k: key, v: value, e }), durable);
  }

  async setIfAbsent(key: string, value: unknown, ttlMs: number, durable: boolean): Promise<boolean> {
    if (this.get(key) !== undefined) return false;
    await this.set(key, value, ttlMs, durable);
    return true;
  }

  async increment(key: string, limit: number, ttlMs: number): Promise<boolean> {
    const entry = this.#entries.get(key);
    const count = entry && entry.e > Date.now() ? (entry.v as number) : 0;
    if (count >= limit) return false;
    await this.set(key, count + 1, entry ? entry.e - Date.now() : ttlMs, false);
    return true;
  }

  async close(): Promise<void> {
    await this.#writing;
    await this.#file?.close();
  }

  /** Group commit: every append of this event turn goes out in one write (and one fdatasync if any asked for it). */
  #append(line: string, durable: boolean): Promise<void> {
    this.#batch.push(line);
    this.#batchDurable ||= durable;
    const done = new Promise<void>((resolve) => this.#batchWaiters.push(resolve));
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        const lines = this.#batch,
          waiters = this.#batchWaiters,
          sync = this.#batchDurable;
        this.#batch = [];
        this.#batchWaiters = [];
        this.#batchDurable = false;
        this.#scheduled = false;
        this.#writing = this.#writing.then(async () => {
          await this.#file!.write(lines.join('\n') + '\n');
          if (sync) await this.#file!.datasync();
          for (const resolve of waiters) resolve();
        });
      });
    }
    return done;
  }
}

interface Engine {
  name: string;
  durablePut(key: string, value: unknown): Promise<unknown>;
  setIfAbsent(key: string): Promise<boolean>;
  increment(key: string): Promise<boolean>;
  close(): Promise<void>;
}

async function lmdbEngine(dir: string): Promise<Engine> {
  const store = new LmdbStateStore({ path: dir, purgeIntervalMs: HOUR });
  await store.open();
  const durable = store.namespace('revocations', { durable: true });
  const codes = store.namespace('codes');
  const quotas = store.namespace('quotas');
  const now = Date.now();
  const window: QuotaWindow = { name: 'day', limit: Number.MAX_SAFE_INTEGER, start: now, end: now + HOUR };
  return {
    name: 'lmdb',
    durablePut: (key, value) => durable.set(key, value as never, HOUR),
    setIfAbsent: (key) => codes.setIfAbsent(key, 1, HOUR),
    increment: async (key) => (await quotas.consume(key, [window])).allowed,
    close: () => store.close(),
  };
}

async function journalEngine(dir: string): Promise<Engine> {
  const journal = new JournalPrototype(join(dir, 'journal.jsonl'));
  await journal.open();
  return {
    name: 'journal',
    durablePut: (key, value) => journal.set(key, value, HOUR, true),
    setIfAbsent: (key) => journal.setIfAbsent(key, 1, HOUR, false),
    increment: (key) => journal.increment(key, Number.MAX_SAFE_INTEGER, HOUR),
    close: () => journal.close(),
  };
}

/** Operations per second for `total` operations issued `concurrency` at a time. */
async function rate(total: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < total; i += concurrency) {
    await Promise.all(Array.from({ length: Math.min(concurrency, total - i) }, (_, j) => op(i + j)));
  }
  return Math.round(total / ((performance.now() - started) / 1000));
}

async function reopenTime(
  name: string,
  factory: (dir: string) => Promise<Engine>,
  dir: string,
  entries: number,
): Promise<number> {
  const engine = await factory(dir);
  for (let i = 0; i < entries; i += 5000) {
    await Promise.all(
      Array.from({ length: 5000 }, (_, j) => engine.durablePut(`jti-${i + j}`, { clientId: 'c', exp: 1 })),
    );
  }
  await engine.close();
  const started = performance.now();
  const reopened = await factory(dir);
  const ms = performance.now() - started;
  await reopened.close();
  void name;
  return ms;
}

async function main(): Promise<void> {
  const base = process.env.BENCH_DIR ?? tmpdir();
  const results: Array<Record<string, string | number>> = [];
  for (const factory of [lmdbEngine, journalEngine]) {
    const dir = mkdtempSync(join(base, 'state-bench-'));
    try {
      const engine = await factory(dir);
      const row: Record<string, string | number> = { engine: engine.name };
      row['durable puts/s (100 concurrent)'] = await rate(20_000, 100, (i) =>
        engine.durablePut(`c-${i}`, { clientId: 'c', exp: i }),
      );
      row['durable puts/s (one at a time)'] = await rate(500, 1, (i) =>
        engine.durablePut(`s-${i}`, { clientId: 'c', exp: i }),
      );
      row['set-if-absent/s (100 concurrent)'] = await rate(20_000, 100, (i) =>
        engine.setIfAbsent(`code-${i % 10_000}`),
      );
      row['increments/s (100 concurrent)'] = await rate(20_000, 100, (i) => engine.increment(`client-${i % 50}`));
      row['increments/s (one at a time)'] = await rate(5_000, 1, (i) => engine.increment(`client-${i % 50}`));
      await engine.close();
      const reopenDir = mkdtempSync(join(base, 'state-bench-reopen-'));
      try {
        row['reopen 100k entries (ms)'] = Math.round(await reopenTime(engine.name, factory, reopenDir, 100_000));
      } finally {
        rmSync(reopenDir, { recursive: true, force: true });
      }
      results.push(row);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const columns = Object.keys(results[0]!);
  console.log(`| ${columns.join(' | ')} |`);
  console.log(`|${columns.map(() => '---').join('|')}|`);
  for (const row of results) console.log(`| ${columns.map((c) => row[c]).join(' | ')} |`);
}

if (process.argv[1]?.endsWith('state-engines.js')) await main();
