import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { createAccessLogger, type AccessEntry } from '../../../core/http/access-log.js';

// The repository root, where `pino` resolves from (the test runs from dist/test/core/http).
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

function entry(i: number, extra: Partial<AccessEntry> = {}): AccessEntry {
  return {
    requestId: `id-${i}`,
    method: 'GET',
    host: 'api.test',
    path: `/items/${i}`,
    status: 200,
    durationMs: 1.25,
    routeId: 'items',
    target: 'http://127.0.0.1:3000',
    clientIp: '127.0.0.1',
    consumer: null,
    ...extra,
  };
}

function capture() {
  const writes: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      writes.push(String(chunk));
      done();
    },
  });
  const log = pino({ level: 'info', base: { service: 'portcullis' } }, sink);
  return { writes, log };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('Access log', () => {
  it('writes request ids and paths that need escaping as valid JSON, each variant as sent', async () => {
    const { writes, log } = capture();
    const access = createAccessLogger(log);
    const variants = [
      'plain-id',
      'a"quote',
      'back\\slash',
      'tab\tand\nnewline',
      'caf\u00e9',
      '\u001f',
      'lone\ud800',
      '\u007f',
    ];
    variants.forEach((v, i) => access(entry(i, { requestId: v, path: `/p/${v}` })));
    await nextTurn();
    const lines = writes
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
    assert.deepEqual(
      lines.map((l) => l.requestId),
      variants.map((v) => JSON.parse(JSON.stringify(v))),
    );
    assert.deepEqual(
      lines.map((l) => l.path),
      variants.map((v) => JSON.parse(JSON.stringify(`/p/${v}`))),
    );
  });

  it('hands the lines of one event-loop turn to the destination in one write', async () => {
    const { writes, log } = capture();
    const access = createAccessLogger(log);
    for (let i = 0; i < 3; i++) access(entry(i));
    assert.equal(writes.length, 0, 'nothing written before the turn ends');
    await nextTurn();
    assert.equal(writes.length, 1);
    const lines = writes[0]!
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
    assert.deepEqual(
      lines.map((l) => l.requestId),
      ['id-0', 'id-1', 'id-2'],
    );
  });

  it('keeps the JSON shape of a pino line: level, time, bindings, the fields, msg', async () => {
    const { writes, log } = capture();
    const access = createAccessLogger(log);
    access(entry(7, { consumer: 'client "7"', routeId: null, target: null }));
    access(entry(8, { mode: 'authorizer', host: 'odd\u2028host' }));
    await nextTurn();
    const [first, second] = writes
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
    assert.equal(typeof first.time, 'number');
    const { time: _time, ...rest } = first;
    assert.deepEqual(rest, {
      level: 30,
      service: 'portcullis',
      component: 'access',
      requestId: 'id-7',
      method: 'GET',
      host: 'api.test',
      path: '/items/7',
      status: 200,
      durationMs: 1.25,
      routeId: null,
      target: null,
      clientIp: '127.0.0.1',
      consumer: 'client "7"',
      msg: 'request',
    });
    assert.equal(second.mode, 'authorizer');
    assert.equal(second.host, 'odd\u2028host');
  });

  it('writes a long burst in bounded batches, in order', async () => {
    const { writes, log } = capture();
    const access = createAccessLogger(log);
    for (let i = 0; i < 600; i++) access(entry(i));
    await nextTurn();
    assert.ok(writes.length >= 3, `${writes.length} writes`);
    const ids = writes
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line).requestId);
    assert.deepEqual(
      ids,
      Array.from({ length: 600 }, (_, i) => `id-${i}`),
    );
  });

  it('holds lines for a destination that buffers anyway, and writes them in one piece of about 16 KiB', async () => {
    const writes: string[] = [];
    // The shape of pino's asynchronous sonic-boom destination: a write method and a minLength.
    const destination = { minLength: 32 * 1024, write: (text: string) => void writes.push(text) };
    const log = pino({ level: 'info', base: { service: 'portcullis' } }, destination);
    const access = createAccessLogger(log);
    access(entry(0));
    await nextTurn();
    assert.equal(writes.length, 0, 'one line is held past the turn');
    let lines = 1;
    while (writes.length === 0 && lines < 1000) access(entry(lines++));
    assert.ok(lines > 50, `written after ${lines} lines`);
    assert.ok(writes[0]!.length >= 16 * 1024, 'written once the held lines reach 16 KiB');
    const ids = writes[0]!
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line).requestId);
    assert.deepEqual(ids.slice(0, 3), ['id-0', 'id-1', 'id-2']);
  });

  it('writes held lines within 200 ms on a quiet gateway', async () => {
    const writes: string[] = [];
    const destination = { minLength: 32 * 1024, write: (text: string) => void writes.push(text) };
    const access = createAccessLogger(pino({ level: 'info' }, destination));
    access(entry(1));
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(writes.length, 1);
    assert.equal(JSON.parse(writes[0]!).requestId, 'id-1');
  });

  it('writes held lines to the file when the process exits', () => {
    const dir = mkdtempSync(join(tmpdir(), 'access-log-'));
    const file = join(dir, 'out.log');
    const module = new URL('../../../core/http/access-log.js', import.meta.url).href;
    const script = `
      import { openSync } from 'node:fs';
      import { pino } from 'pino';
      import { createAccessLogger } from ${JSON.stringify(module)};
      // A descriptor, as the gateway's standard output is (a path would still be opening at exit).
      const destination = pino.destination({ dest: openSync(${JSON.stringify(file)}, 'w'), sync: false, minLength: 32 * 1024, maxWrite: 64 * 1024 });
      const access = createAccessLogger(pino({ level: 'info' }, destination));
      access(${JSON.stringify(entry(42))});
      process.exit(0);
    `;
    execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT });
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    assert.equal(lines.length, 1);
    assert.equal(JSON.parse(lines[0]!).requestId, 'id-42');
    rmSync(dir, { recursive: true, force: true });
  });
});
