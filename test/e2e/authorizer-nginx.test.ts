/**
 * Issue 13: real Debian nginx in front of a real upstream, asking Portcullis through `auth_request`.
 * The nginx configuration and the authorizer settings are the guide's own
 * (docs/guides/nginx-auth-request.md), with only the documented ports replaced, so the guide cannot
 * drift; test/e2e/guides.test.ts runs the guide's commands as written.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { startGateway, createRoute, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import { send, basic } from '../helpers/http.js';
import { freePort, startNginx, type TestNginx } from '../helpers/nginx.js';
import { loadBootConfig } from '../../core/config/boot-config.js';

const GUIDE = readFileSync(new URL('../../../docs/guides/nginx-auth-request.md', import.meta.url), 'utf8');
const SECRET = 'a-shared-secret-of-at-least-32-bytes!!';
const token = (scope: string) =>
  new SignJWT({ sub: 'alice', scope })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('5m')
    .sign(Buffer.from(SECRET));

/** The bodies of the guide's `cat > … <<'<marker>'` here-documents, in order. */
function hereDocuments(marker: string): string[] {
  return [...GUIDE.matchAll(new RegExp(`<<'${marker}'\\n([\\s\\S]*?)\\n${marker}\\n`, 'g'))].map((m) => m[1]!);
}

/** Replace a documented value, failing when the guide no longer contains it. */
function replaceDocumented(text: string, documented: string, actual: string): string {
  assert.ok(text.includes(documented), `the guide's nginx configuration mentions ${documented}`);
  return text.split(documented).join(actual);
}

describe("Guide: Portcullis as nginx's auth_request, with real nginx", () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let nginx: TestNginx;
  const SHOP_SECRET = 'shop-secret-0123456789';

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await startGateway({
      config: { authorizer: { host: '127.0.0.1', port: 0, trustedProxies: ['127.0.0.1'], unmatched: 401 } },
    });
    const authorizer = new URL(gw.gateway.authorizerUrl!);
    const port = await freePort();
    const [conf] = hereDocuments('NGINX');
    assert.ok(conf, 'the guide writes an nginx configuration');
    let http = replaceDocumented(conf, 'server 127.0.0.1:9211;', `server ${authorizer.host};`);
    http = replaceDocumented(http, 'http://127.0.0.1:3210', upstream.url);
    http = replaceDocumented(http, 'listen 127.0.0.1:8211;', `listen 127.0.0.1:${port};`);
    nginx = await startNginx(http, port);
  });
  after(async () => {
    await nginx?.stop();
    await gw?.close();
    await upstream?.close();
  });

  it('accepts the documented authorizer configuration', () => {
    const [json] = hereDocuments('JSON');
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-authorizer-config-'));
    try {
      writeFileSync(join(dir, 'config.json'), json!);
      const config = loadBootConfig({ file: join(dir, 'config.json'), env: {} });
      assert.deepEqual(config.authorizer, {
        host: '127.0.0.1',
        port: 9211,
        trustedProxies: ['127.0.0.1'],
        unmatched: 401,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses with 401 and its challenge, 403 for a key of other routes, and allows a key of the route to the upstream', async () => {
    await createRoute(gw, {
      id: 'nginx-orders',
      name: 'Orders, served by nginx',
      mode: 'authorizer',
      frontend: { domains: ['localhost/orders'], stripPath: false },
      plugins: [{ plugin: 'apikeys' }],
      authorizer: { user: true },
    });
    for (const [clientId, clientName, entity] of [
      ['intern', 'Intern', 'tag:reports'],
      ['shop', 'Shop', 'nginx-orders'],
    ] as const) {
      const res = await gw.admin('POST', '/api/apikeys', {
        clientId,
        clientName,
        clientSecret: `${clientId}-secret-0123456789`,
        authorizedEntities: [entity],
      });
      assert.equal(res.status, 201, res.text);
    }
    const host = { host: 'localhost:8000' };
    const anonymous = await send(`${nginx.url}/orders/17`, { headers: host });
    assert.equal(anonymous.status, 401, nginx.errorLog());
    assert.match(String(anonymous.headers['www-authenticate']), /^Basic realm="portcullis"/);
    assert.equal(
      (
        await send(`${nginx.url}/orders/17`, {
          headers: { ...host, authorization: basic('intern', 'intern-secret-0123456789') },
        })
      ).status,
      403,
    );
    assert.equal(
      (await send(`${nginx.url}/orders/17`, { headers: { ...host, authorization: basic('shop', SHOP_SECRET) } }))
        .status,
      200,
      nginx.errorLog(),
    );
    const seen = upstream.received.at(-1)!;
    assert.equal(seen.url, '/orders/17');
    assert.equal(
      seen.headers['x-consumer-client-id'],
      'shop',
      'the upstream sees the identity headers set by auth_request_set',
    );
    assert.equal(seen.headers['x-consumer-name'], 'Shop');
    assert.equal(seen.headers['x-auth-request-user'], 'shop');
  });

  it('never lets a client send its own identity headers through nginx', async () => {
    const res = await send(`${nginx.url}/orders/18`, {
      headers: {
        host: 'localhost:8000',
        authorization: basic('shop', SHOP_SECRET),
        'x-consumer-client-id': 'admin',
        'x-auth-request-email': 'mallory@example.com',
        'x-authenticated-userid': 'root',
      },
    });
    assert.equal(res.status, 200, nginx.errorLog());
    const seen = upstream.received.at(-1)!;
    assert.equal(seen.headers['x-consumer-client-id'], 'shop');
    assert.equal(seen.headers['x-auth-request-email'], undefined);
    assert.equal(seen.headers['x-authenticated-userid'], undefined);
  });

  it('passes on a 401 challenge once, a 403 insufficient_scope challenge, and the token claims to the upstream', async () => {
    await createRoute(gw, {
      id: 'reports',
      name: 'Reports',
      mode: 'authorizer',
      frontend: { domains: ['localhost/reports'], stripPath: false },
      plugins: [
        {
          plugin: 'jwt-verifier',
          config: {
            verifier: { keys: { kind: 'hmac', secret: SECRET }, algorithms: ['HS256'] },
            rules: [{ path: '/reports/.*', requiredScopes: ['reports'] }],
            upstream: {
              strategy: 'claims-to-headers',
              claimsToHeaders: { sub: 'X-Authenticated-Userid', scope: 'X-Authenticated-Scope' },
            },
          },
        },
      ],
    });
    const before = upstream.received.length;
    const missing = await send(`${nginx.url}/reports/q3`, { headers: { host: 'localhost:8000' } });
    assert.equal(missing.status, 401);
    assert.equal(
      missing.headers['www-authenticate'],
      'Bearer realm="portcullis"',
      'one challenge, as the plugin sent it',
    );
    const narrow = await send(`${nginx.url}/reports/q3`, {
      headers: { host: 'localhost:8000', authorization: `Bearer ${await token('read')}` },
    });
    assert.equal(narrow.status, 403);
    assert.match(
      String(narrow.headers['www-authenticate']),
      /^Bearer realm="portcullis", error="insufficient_scope", .*scope="reports"$/,
    );
    assert.equal(upstream.received.length, before, 'nothing refused reached the upstream');
    const allowed = await send(`${nginx.url}/reports/q3`, {
      headers: { host: 'localhost:8000', authorization: `Bearer ${await token('reports')}` },
    });
    assert.equal(allowed.status, 200, nginx.errorLog());
    assert.equal(allowed.headers['www-authenticate'], undefined);
    const seen = upstream.received.at(-1)!;
    assert.equal(seen.headers['x-authenticated-userid'], 'alice');
    assert.equal(seen.headers['x-authenticated-scope'], 'reports');
  });

  it('answers 401 through nginx (not 500) for a request no route matches', async () => {
    const res = await send(`${nginx.url}/nowhere`, { headers: { host: 'localhost:8000' } });
    assert.equal(res.status, 401);
  });
});
