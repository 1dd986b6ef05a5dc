/**
 * Issue 13: real Debian nginx in front of a real upstream, asking Portcullis through `auth_request`.
 * The nginx configuration and the commands are the README's own ("Use Portcullis as nginx's
 * auth_request"), with only the documented ports replaced, so the documentation cannot drift.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { startGateway, createRoute, ADMIN_PASSWORD, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import { send, basic } from '../helpers/http.js';
import { freePort, startNginx, type TestNginx } from '../helpers/nginx.js';
import { shellCommands, runShellCommands, type ShellWorld } from '../helpers/markdown-shell.js';
import { loadBootConfig } from '../../core/config/boot-config.js';
import { readFileSync } from 'node:fs';

const README = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
const SECTION = "Use Portcullis as nginx's auth_request";
const SECRET = 'a-shared-secret-of-at-least-32-bytes!!';
const token = (scope: string) => new SignJWT({ sub: 'alice', scope }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(Buffer.from(SECRET));

/** The fenced blocks of `language` in the README section. */
function fencedBlocks(language: string): string[] {
  const start = README.indexOf(`## ${SECTION}`);
  const end = README.indexOf('\n## ', start + 1);
  assert.ok(start !== -1 && end !== -1, 'the README has the section');
  const section = README.slice(start, end);
  return [...section.matchAll(new RegExp('^```' + language + '\\n([\\s\\S]*?)^```', 'gm'))].map((m) => m[1]!);
}

/** Replace a documented value, failing when the README no longer contains it. */
function replaceDocumented(text: string, documented: string, actual: string): string {
  assert.ok(text.includes(documented), `the README's nginx configuration mentions ${documented}`);
  return text.split(documented).join(actual);
}

describe("README: Portcullis as nginx's auth_request, with real nginx", () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let nginx: TestNginx;
  let world: ShellWorld;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await startGateway({ config: { authorizer: { host: '127.0.0.1', port: 0, trustedProxies: ['127.0.0.1'], unmatched: 401 } } });
    const authorizer = new URL(gw.gateway.authorizerUrl!);
    const port = await freePort();
    const [conf] = fencedBlocks('nginx');
    assert.ok(conf, 'the section has an nginx block');
    let http = replaceDocumented(conf, 'server 127.0.0.1:9090;', `server ${authorizer.host};`);
    http = replaceDocumented(http, 'http://127.0.0.1:3000', upstream.url);
    http = replaceDocumented(http, 'listen 8000;', `listen 127.0.0.1:${port};`);
    nginx = await startNginx(http, port);
    world = {
      origins: { 'http://127.0.0.1:9080': gw.adminUrl, 'http://localhost:8000': nginx.url },
      upstreams: { 'http://127.0.0.1:3000': upstream },
      pastes: { password: ADMIN_PASSWORD },
      vars: new Map([['PORTCULLIS_PW', ADMIN_PASSWORD]]),
    };
  });
  after(async () => {
    await nginx?.stop();
    await gw?.close();
    await upstream?.close();
  });

  it('accepts the documented authorizer configuration', () => {
    const [json] = fencedBlocks('json');
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-authorizer-config-'));
    try {
      writeFileSync(join(dir, 'config.json'), json!);
      const config = loadBootConfig({ file: join(dir, 'config.json'), env: {} });
      assert.deepEqual(config.authorizer, { host: '127.0.0.1', port: 9090, trustedProxies: ['127.0.0.1'], unmatched: 401 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs the documented commands through nginx: refused with 401 and its challenge, 403, and allowed to the upstream', async () => {
    const commands = shellCommands(README, { from: SECTION, until: 'The API portal: access requests' });
    assert.ok(commands.some((c) => c.text.includes('localhost:8000') && c.comment.startsWith('401')), 'a documented 401 through nginx');
    assert.ok(commands.some((c) => c.comment.startsWith('403')), 'a documented 403 through nginx');
    assert.equal(await runShellCommands(commands, world), 6, nginx.errorLog());
    const seen = upstream.received.at(-1)!;
    assert.equal(seen.url, '/orders/17');
    assert.equal(seen.headers['x-consumer-client-id'], 'shop', 'the upstream sees the identity headers set by auth_request_set');
    assert.equal(seen.headers['x-consumer-name'], 'Shop');
    assert.equal(seen.headers['x-auth-request-user'], 'shop');
  });

  it('never lets a client send its own identity headers through nginx', async () => {
    const shop = world.vars.get('SHOP_SECRET')!;
    const res = await send(`${nginx.url}/orders/18`, { headers: { host: 'localhost:8000', authorization: basic('shop', shop), 'x-consumer-client-id': 'admin', 'x-auth-request-email': 'mallory@example.com', 'x-authenticated-userid': 'root' } });
    assert.equal(res.status, 200, nginx.errorLog());
    const seen = upstream.received.at(-1)!;
    assert.equal(seen.headers['x-consumer-client-id'], 'shop');
    assert.equal(seen.headers['x-auth-request-email'], undefined);
    assert.equal(seen.headers['x-authenticated-userid'], undefined);
  });

  it('passes on a 401 challenge once, a 403 insufficient_scope challenge, and the token claims to the upstream', async () => {
    await createRoute(gw, {
      id: 'reports', name: 'Reports', mode: 'authorizer', frontend: { domains: ['localhost/reports'], stripPath: false },
      plugins: [{ plugin: 'jwt-verifier', config: { verifier: { keys: { kind: 'hmac', secret: SECRET }, algorithms: ['HS256'] }, rules: [{ path: '/reports/.*', requiredScopes: ['reports'] }], upstream: { strategy: 'claims-to-headers', claimsToHeaders: { sub: 'X-Authenticated-Userid', scope: 'X-Authenticated-Scope' } } } }],
    });
    const before = upstream.received.length;
    const missing = await send(`${nginx.url}/reports/q3`, { headers: { host: 'localhost:8000' } });
    assert.equal(missing.status, 401);
    assert.equal(missing.headers['www-authenticate'], 'Bearer realm="portcullis"', 'one challenge, as the plugin sent it');
    const narrow = await send(`${nginx.url}/reports/q3`, { headers: { host: 'localhost:8000', authorization: `Bearer ${await token('read')}` } });
    assert.equal(narrow.status, 403);
    assert.match(String(narrow.headers['www-authenticate']), /^Bearer realm="portcullis", error="insufficient_scope", .*scope="reports"$/);
    assert.equal(upstream.received.length, before, 'nothing refused reached the upstream');
    const allowed = await send(`${nginx.url}/reports/q3`, { headers: { host: 'localhost:8000', authorization: `Bearer ${await token('reports')}` } });
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
