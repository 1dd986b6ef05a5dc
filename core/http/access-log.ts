/**
 * The access log: one JSON line per proxied request or authorizer decision (`mode: "authorizer"`). Its fields are fixed, so the line is written
 * from a template straight to the logger's destination: about a tenth of the CPU of a generic
 * pino call, which matters at thousands of requests per second. The lines of one event-loop turn
 * are handed to the destination as one string: pino's sonic-boom measures the byte length of its
 * whole pending buffer on every write (flattening it), so a write per line cost a copy of up to
 * 16 KiB and its garbage per request. With a pretty (TTY) logger it goes through pino as usual.
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
  let batch: string[] = [];
  // Written at the end of this turn of the event loop (before any client reads the answer) or once
  // the batch is large; `setImmediate` runs after the I/O callbacks of the turn.
  const flush = () => {
    scheduled = false;
    if (batch.length === 0) return;
    const lines = batch;
    batch = [];
    write(lines.length === 1 ? lines[0]! : lines.join(''));
  };
  let scheduled = false;
  return (e) => {
    const count = batch.push(
      `${prefix}"time":${Date.now()},${base},"requestId":${JSON.stringify(e.requestId)},"method":${quote(e.method)},"host":${quote(e.host)},"path":${JSON.stringify(e.path)},"status":${e.status},"durationMs":${e.durationMs},"routeId":${e.routeId === null ? 'null' : quote(e.routeId)},"target":${e.target === null ? 'null' : quote(e.target)},"clientIp":${quote(e.clientIp)},"consumer":${e.consumer === null ? 'null' : quote(e.consumer)}${e.mode === undefined ? '' : `,"mode":"${e.mode}"`},"msg":"request"}\n`,
    );
    if (count >= MAX_BATCH) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
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

/** Lines per write at most (about 64 KiB), so a long busy turn does not hold many lines. */
const MAX_BATCH = 256;
