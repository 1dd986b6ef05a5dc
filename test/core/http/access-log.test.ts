import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createAccessLogger, type AccessEntry } from '../../../core/http/access-log.js';

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
});
