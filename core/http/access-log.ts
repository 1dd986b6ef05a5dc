/**
 * The access log: one JSON line per proxied request or authorizer decision (`mode: "authorizer"`). Its fields are fixed, so the line is written
 * from a template straight to the logger's destination: about a tenth of the CPU of a generic
 * pino call, which matters at thousands of requests per second. Lines are handed to the destination
 * in batches: pino's sonic-boom measures the byte length of its whole pending buffer on every write
 * (flattening it), so a write per line cost a copy of up to 64 KiB and its garbage per request (see
 * `heldLines` and `linesOfTurn`). With a pretty (TTY) logger it goes through pino as usual.
 * Fields are chosen, never copied from the request: no header, so no credential, can reach this log.
 */
import { pino, type Logger } from 'pino';

export interface AccessEntry {
  requestId: string;
  method: string;
  host: string;
  path: string;
  status: number;
  durationMs: number;
  routeId: string | null;
  target: string | null;
  clientIp: string;
  consumer: string | null;
  /** Set on the authorizer listener's lines: a decision (`status` is the answer to the ingress), not a proxied request. */
  mode?: 'authorizer';
}

export type AccessLogger = (entry: AccessEntry) => void;

const INFO = 30;

export function createAccessLogger(log: Logger): AccessLogger {
  if (!log.isLevelEnabled('info')) return () => {};
  const stream = (log as unknown as Record<symbol, { write?: (line: string) => unknown } | undefined>)[
    pino.symbols.streamSym
  ];
  const bindings = log.bindings();
  // pino-pretty runs as a transport (a worker): keep its formatting by using pino itself.
  const isPlainStream =
    stream &&
    typeof stream.write === 'function' &&
    !(stream as { worker?: unknown }).worker &&
    log.levels.values.info === INFO;
  const child = log.child({ component: 'access' });
  if (!isPlainStream) return (entry) => child.info(entry, 'request');
  const prefix = `{"level":${INFO},`;
  const base = Object.entries({ ...bindings, component: 'access' })
    .map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)
    .join(',');
  const write = stream.write!.bind(stream);
  const buffered = (stream as { minLength?: number }).minLength ?? 0;
  const line = (e: AccessEntry) =>
    `${prefix}"time":${Date.now()},${base},"requestId":"${jsonText(e.requestId)}","method":${quote(e.method)},"host":${quote(e.host)},"path":"${jsonText(e.path)}","status":${e.status},"durationMs":${e.durationMs},"routeId":${e.routeId === null ? 'null' : quote(e.routeId)},"target":${e.target === null ? 'null' : quote(e.target)},"clientIp":${quote(e.clientIp)},"consumer":${e.consumer === null ? 'null' : quote(e.consumer)}${e.mode === undefined ? '' : `,"mode":"${e.mode}"`},"msg":"request"}\n`;
  return buffered > 0 ? heldLines(line, write, stream as { flushSync?: () => void }) : linesOfTurn(line, write);
}

/**
 * A destination that writes at once (a test's stream, a synchronous file): the lines of one turn of
 * the event loop (before any client reads the answer) in one write, or sooner once the batch is large.
 */
function linesOfTurn(line: (e: AccessEntry) => string, write: (text: string) => unknown): AccessLogger {
  let batch: string[] = [];
  let scheduled = false;
  // `setImmediate` runs after the I/O callbacks of the turn.
  const flush = () => {
    scheduled = false;
    if (batch.length === 0) return;
    const lines = batch;
    batch = [];
    write(lines.length === 1 ? lines[0]! : lines.join(''));
  };
  return (e) => {
    if (batch.push(line(e)) >= MAX_BATCH) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
}

/**
 * A destination that buffers anyway (pino's asynchronous sonic-boom, `minLength` 32 KiB, flushed each
 * second). Its `write` measures the byte length of its pending text and appends to it, which on the
 * concatenated (rope) strings of many small writes meant copying it flat on every write; encoding it
 * for the file then cost as much again. Here lines are held in an array until just over half the
 * destination's largest write (or HELD_MS), then joined into one flat string: two such writes never
 * fit one pending piece, so the destination neither appends nor copies, and measuring and encoding a
 * flat one-byte string costs ~0.1 ns a byte instead of ~3. Lines reached the file up to a second late
 * before too; held lines are written synchronously when the process exits (SIGTERM, SIGINT, `exit`).
 */
function heldLines(
  line: (e: AccessEntry) => string,
  write: (text: string) => unknown,
  stream: { flushSync?: () => void; maxWrite?: number },
): AccessLogger {
  const limit = Math.max(HELD_BYTES, Math.floor((stream.maxWrite ?? 0) / 2) + 1);
  let held: string[] = [];
  let length = 0;
  let timer: NodeJS.Timeout | null = null;
  const flush = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    if (held.length === 0) return;
    const text = held.join('');
    held = [];
    length = 0;
    write(text);
  };
  onExit(() => {
    flush();
    try {
      stream.flushSync?.();
    } catch {
      // a write in progress: sonic-boom's own exit handler finishes it
    }
  });
  return (e) => {
    const text = line(e);
    held.push(text);
    length += text.length;
    if (length >= limit) flush();
    else if (timer === null) timer = setTimeout(flush, HELD_MS).unref();
  };
}

const HELD_BYTES = 16 * 1024;
const HELD_MS = 200;
const EXIT_FLUSHES: Array<() => void> = [];
/** One `exit` listener for every held log (a process has one or two: the proxy's, the authorizer's). */
function onExit(flush: () => void): void {
  if (EXIT_FLUSHES.length === 0) process.on('exit', () => EXIT_FLUSHES.forEach((f) => f()));
  EXIT_FLUSHES.push(flush);
}

/**
 * The JSON form of a field with few distinct values (method, host, route id, target, client address,
 * consumer), made once: a request's line then allocates only its own id and path. Bounded, since a
 * client chooses its Host and address.
 */
const QUOTED = new Map<string, string>();
const MAX_QUOTED = 4096;
function quote(value: string): string {
  let quoted = QUOTED.get(value);
  if (quoted === undefined) {
    if (QUOTED.size >= MAX_QUOTED) QUOTED.clear();
    QUOTED.set(value, (quoted = JSON.stringify(value)));
  }
  return quoted;
}

/**
 * A string's JSON form without its quotes. Request ids and paths are nearly always printable ASCII
 * with no quote or backslash: those are used as they are (a scan, no copy); `JSON.stringify` escapes
 * the rest.
 */
function jsonText(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x22 /* " */ || c === 0x5c /* \ */ || c > 0x7e) return JSON.stringify(value).slice(1, -1);
  }
  return value;
}

/** Lines per write at most (about 64 KiB), so a long busy turn does not hold many lines. */
const MAX_BATCH = 256;
