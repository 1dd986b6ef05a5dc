import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, createRoute, route, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';

const RESTRICTION = {
  plugin: 'ip-restriction',
  config: { allow: ['203.0.113.0/24', '2001:db8::/32', '127.0.0.1'], deny: ['203.0.113.66', '127.0.0.1'] },
};

async function restrictedGateway(upstream: Upstream, trustedProxies: string[]): Promise<TestGateway> {
  const gw = await startGateway({ config: { proxy: { trustedProxies } } });
  await createRoute(gw, route('partners', upstream.url, { plugins: [RESTRICTION] }));
  return gw;
}

function from(gw: TestGateway, forwardedFor?: string) {
  return gw.proxy('/orders', { headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } });
}

function assertRefused(res: { status: number; json(): any }) {
  assert.equal(res.status, 403);
  assert.deepEqual(res.json(), { error: 'ip_not_allowed', error_description: 'Your IP address is not allowed' });
}

describe('Plugin: ip-restriction (access)', () => {
  let upstream: Upstream;
  before(async () => {
    upstream = await startUpstream(echo);
  });
  after(async () => {
    await upstream.close();
  });

  describe('behind a trusted proxy (127.0.0.1 and 10.0.0.0/8)', () => {
    let gw: TestGateway;
    before(async () => {
      gw = await restrictedGateway(upstream, ['127.0.0.1', '10.0.0.0/8']);
    });
    after(async () => {
      await gw.close();
    });

    it('allows a client in the allow list, IPv4, IPv6 and IPv4-mapped', async () => {
      for (const client of [
        '203.0.113.7',
        '2001:db8::7',
        '::ffff:203.0.113.7',
        '[2001:db8::7]:443',
        '203.0.113.7:51000',
      ]) {
        const res = await from(gw, client);
        assert.equal(res.status, 200, client);
        assert.equal(res.json().url, '/orders');
      }
    });

    it('refuses a client outside the allow list, and a denied one inside it (deny wins)', async () => {
      assertRefused(await from(gw, '198.51.100.7'));
      assertRefused(await from(gw, '2001:db9::7'));
      assertRefused(await from(gw, '203.0.113.66'));
      assertRefused(await from(gw, '::ffff:203.0.113.66'));
    });

    it('takes the right-most address that is not a trusted proxy: a client cannot choose its address (regression: the left-most entry was trusted)', async () => {
      // The client sent "X-Forwarded-For: 203.0.113.7"; the trusted proxy appended the real peer.
      assertRefused(await from(gw, '203.0.113.7, 198.51.100.7'));
      // A chain of trusted proxies is walked through.
      assert.equal((await from(gw, '198.51.100.7, 203.0.113.7, 10.1.2.3')).status, 200);
      assertRefused(await from(gw, '203.0.113.7, 198.51.100.7, 10.1.2.3'));
    });

    it('stops at a malformed entry on the last address a trusted proxy vouched for', async () => {
      // "garbage" cannot be the client: the proxy 10.1.2.3 is, and it is not allowed.
      assertRefused(await from(gw, '203.0.113.7, garbage, 10.1.2.3'));
    });

    it("uses the proxy's own address when it forwards no X-Forwarded-For (denied here)", async () => {
      assertRefused(await from(gw));
    });

    it('refuses before the upstream is called, whatever the method and body', async () => {
      const res = await gw.proxy('/orders', {
        method: 'POST',
        headers: { 'x-forwarded-for': '198.51.100.7', 'content-type': 'application/json' },
        body: '{"x":1}',
      });
      assertRefused(res);
    });
  });

  describe('behind an untrusted proxy', () => {
    let gw: TestGateway;
    before(async () => {
      gw = await restrictedGateway(upstream, ['192.0.2.1']);
    });
    after(async () => {
      await gw.close();
    });

    it('ignores X-Forwarded-For from a peer that is not trusted: the peer address decides', async () => {
      // The peer is 127.0.0.1, allowed then denied by the lists: refused however it claims to forward.
      assertRefused(await from(gw, '203.0.113.7'));
      assertRefused(await from(gw));
    });
  });

  describe('configuration', () => {
    let gw: TestGateway;
    before(async () => {
      gw = await startGateway();
    });
    after(async () => {
      await gw.close();
    });

    it('refuses a bad range at write time with 400 naming its path', async () => {
      const res = await gw.admin(
        'POST',
        '/api/routes',
        route('bad', upstream.url, {
          plugins: [
            { plugin: 'ip-restriction', config: { allow: ['10.0.0.0/8', '10.0.0.1/8'], deny: ['10.0.0.256'] } },
          ],
        }),
      );
      assert.equal(res.status, 400);
      const paths = res.json().details.map((d: { path: string }) => d.path);
      assert.ok(paths.includes('/plugins/0/config/allow/1'), res.text);
      assert.ok(paths.includes('/plugins/0/config/deny/0'), res.text);
      const empty = await gw.admin(
        'POST',
        '/api/routes',
        route('empty', upstream.url, { plugins: [{ plugin: 'ip-restriction', config: {} }] }),
      );
      assert.equal(empty.status, 400);
      assert.equal(empty.json().details[0].path, '/plugins/0/config/allow');
    });

    it('with a deny list alone, lets everyone else through and takes a custom message', async () => {
      await createRoute(
        gw,
        route('open', upstream.url, {
          plugins: [{ plugin: 'ip-restriction', config: { deny: ['198.51.100.0/24'], message: 'Blocked network' } }],
        }),
      );
      assert.equal((await gw.proxy('/x')).status, 200);
      const updated = await gw.admin('GET', '/api/routes/open');
      const body = updated.json();
      body.plugins[0].config.deny = ['127.0.0.0/8'];
      assert.equal((await gw.admin('PUT', '/api/routes/open', body)).status, 200);
      const refused = await gw.proxy('/x');
      assert.equal(refused.status, 403);
      assert.deepEqual(refused.json(), { error: 'ip_not_allowed', error_description: 'Blocked network' });
    });
  });
});
