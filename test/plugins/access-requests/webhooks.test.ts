/**
 * Webhooks against a real local receiver: each transition is POSTed as JSON with an HMAC-SHA256
 * signature over timestamp and body; failures are retried with backoff up to `maxAttempts`, every
 * attempt in the delivery log; a delivery cut short by a shutdown is sent after the restart.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { eventually, until } from '../../helpers/wait.js';
import { portalGateway, requestAccess, PROFILE, type PortalWorld } from './fixtures.js';

const SECRET = 'webhook-secret-0123456789';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
  verified: boolean;
}

/** A webhook receiver that checks the signature as a receiver should, answering `answer(n)` to the n-th call (1-based). */
async function startReceiver(
  answer: (n: number, res: ServerResponse) => void,
): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const timestamp = String(req.headers['x-portcullis-timestamp']);
      const expected = Buffer.from(
        `sha256=${createHmac('sha256', SECRET).update(`${timestamp}.${body}`).digest('hex')}`,
      );
      const sent = Buffer.from(String(req.headers['x-portcullis-signature']));
      const verified =
        sent.length === expected.length &&
        timingSafeEqual(sent, expected) &&
        Math.abs(Date.now() / 1000 - Number(timestamp)) < 300;
      received.push({ headers: req.headers, body, verified });
      answer(received.length, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('Plugin: access-requests (webhooks)', () => {
  let upstream: Upstream;
  before(async () => {
    upstream = await startUpstream(echo);
  });
  after(async () => {
    await upstream.close();
  });

  describe('deliveries, signatures and retries', () => {
    let world: PortalWorld;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    // The first two calls fail (a 500, then a reset connection), the rest succeed.
    before(async () => {
      receiver = await startReceiver((n, res) => {
        if (n === 1) res.writeHead(500).end('down');
        else if (n === 2) res.socket?.destroy();
        else res.writeHead(204).end();
      });
      world = await portalGateway(upstream, {
        profile: { webhook: { url: receiver.url, secret: SECRET, maxAttempts: 5, initialBackoffMs: 5 } },
      });
    });
    after(async () => {
      await world.gw.close();
      await receiver.close();
    });

    it('the webhook secret is write-only: never read back, kept by writes that omit it', async () => {
      const read = (await world.gw.admin('GET', `/api/authorization-profiles/${PROFILE.id}`)).json();
      assert.equal(read.webhook.secret, undefined);
      assert.equal(read.webhook.url, receiver.url);
      const listed = await world.as(world.portal, 'GET', '/api/authorization-profiles');
      assert.ok(!listed.text.includes(SECRET));
      assert.ok(
        !(await world.gw.admin('GET', '/api/export')).text.includes(SECRET),
        'an export without private keys leaves it out',
      );
      const written = await world.gw.admin('PUT', `/api/authorization-profiles/${PROFILE.id}`, {
        ...read,
        description: 'changed',
      });
      assert.equal(written.status, 200, written.text);
      assert.ok(
        (await world.gw.admin('GET', '/api/export?includePrivateKeys=true')).text.includes(SECRET),
        'still stored',
      );
      const noSecret = await world.gw.admin('POST', '/api/authorization-profiles', {
        ...PROFILE,
        id: 'no-secret',
        webhook: { url: receiver.url },
      });
      assert.equal(noSecret.status, 400);
      assert.equal(noSecret.json().details[0].path, '/webhook/secret');
    });

    it('a failing receiver gets the same signed body again, with backoff, until it accepts; the log shows each attempt', async () => {
      const created = await requestAccess(world);
      const deliveries = await until(
        'the creation delivered',
        async () => (await world.as(world.manager, 'GET', `/api/access-requests/${created.id}/deliveries`)).json(),
        (d: any[]) => d.length === 1 && d[0].state === 'delivered',
      );
      const [delivery] = deliveries;
      assert.equal(delivery.type, 'access_request.created');
      assert.deepEqual(
        delivery.attempts.map((a: any) => a.attempt),
        [1, 2, 3],
      );
      assert.equal(delivery.attempts[0].status, 500);
      assert.equal(delivery.attempts[1].status, undefined);
      assert.ok(delivery.attempts[1].error, 'a reset connection is logged as an error');
      assert.equal(delivery.attempts[2].status, 204);
      const calls = receiver.received.filter((r) => r.headers['x-portcullis-delivery'] === delivery.id);
      assert.equal(calls.length, 3);
      assert.ok(
        calls.every((c) => c.verified),
        'every attempt carries a valid signature',
      );
      assert.equal(new Set(calls.map((c) => c.body)).size, 1, 'the same body every time');
      const body = JSON.parse(calls[0]!.body);
      assert.equal(body.id, delivery.id);
      assert.equal(body.type, 'access_request.created');
      assert.equal(body.data.request.id, created.id);
      assert.equal(body.data.event.to, 'pending');
      assert.equal(body.data.request.clientSecret, undefined, 'the client secret is never sent');
    });

    it('every transition is delivered, in its own signed call', async () => {
      const created = await requestAccess(world);
      await world.as(world.manager, 'POST', `/api/access-requests/${created.id}/approve`, { reason: 'ok' });
      await world.as(world.manager, 'POST', `/api/access-requests/${created.id}/revoke`, { reason: 'done' });
      const deliveries = await until(
        'three deliveries',
        async () => (await world.as(world.manager, 'GET', `/api/access-requests/${created.id}/deliveries`)).json(),
        (d: any[]) => d.length === 3 && d.every((x) => x.state === 'delivered'),
      );
      assert.deepEqual(deliveries.map((d: any) => d.type).sort(), [
        'access_request.approved',
        'access_request.created',
        'access_request.revoked',
      ]);
      const bodies = receiver.received
        .filter((r) => r.verified)
        .map((r) => JSON.parse(r.body))
        .filter((b) => b.data.request.id === created.id);
      const approved = bodies.find((b) => b.type === 'access_request.approved');
      assert.equal(approved.data.event.reason, 'ok');
      assert.equal(approved.data.request.state, 'approved');
    });
  });

  describe('bounded attempts', () => {
    let world: PortalWorld;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    before(async () => {
      receiver = await startReceiver((_n, res) => res.writeHead(503).end());
      world = await portalGateway(upstream, {
        profile: { webhook: { url: receiver.url, secret: SECRET, maxAttempts: 3, initialBackoffMs: 1 } },
      });
    });
    after(async () => {
      await world.gw.close();
      await receiver.close();
    });

    it('after maxAttempts failures the delivery is marked failed and not tried again; the decision stood all along', async () => {
      const created = await requestAccess(world);
      const approved = await world.as(world.manager, 'POST', `/api/access-requests/${created.id}/approve`);
      assert.equal(approved.status, 200, 'a failing receiver does not fail the decision');
      const deliveries = await until(
        'both deliveries failed',
        async () => (await world.gw.admin('GET', `/api/access-requests/${created.id}/deliveries`)).json(),
        (d: any[]) => d.length === 2 && d.every((x) => x.state === 'failed'),
      );
      for (const delivery of deliveries)
        assert.deepEqual(
          delivery.attempts.map((a: any) => a.status),
          [503, 503, 503],
        );
      assert.equal(receiver.received.length, 6);
      assert.ok(world.gw.logs.some((l) => l.msg === 'webhook delivery failed'));
    });
  });

  describe('restart', () => {
    it('a delivery in flight at shutdown is sent again after the restart, as the same delivery', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-webhooks-'));
      let hang = true;
      const receiver = await startReceiver((_n, res) => {
        if (!hang) res.writeHead(200).end();
      });
      try {
        const world = await portalGateway(upstream, {
          dataDir,
          profile: { webhook: { url: receiver.url, secret: SECRET, maxAttempts: 3, initialBackoffMs: 1 } },
        });
        const created = await requestAccess(world);
        await eventually(() => receiver.received.length === 1, 'the first attempt reached the receiver');
        await world.gw.close({ keepData: true });
        hang = false;
        const { startGateway } = await import('../../helpers/gateway.js');
        const gw = await startGateway({ dataDir });
        try {
          const deliveries = await until(
            'delivered after the restart',
            async () => (await gw.admin('GET', `/api/access-requests/${created.id}/deliveries`)).json(),
            (d: any[]) => d.length === 1 && d[0].state === 'delivered',
          );
          assert.equal(deliveries[0].attempts.length, 1, 'the interrupted attempt did not count');
          assert.equal(receiver.received.length, 2);
          assert.equal(
            receiver.received[0]!.headers['x-portcullis-delivery'],
            receiver.received[1]!.headers['x-portcullis-delivery'],
          );
          assert.ok(receiver.received[1]!.verified);
        } finally {
          await gw.close();
        }
      } finally {
        await receiver.close();
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });
});
