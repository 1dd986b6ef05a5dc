/**
 * External-authorizer mode (issue 13): one matrix of requests runs through the proxy listener and
 * through the authorizer listener in each ingress shape (nginx auth_request, Traefik ForwardAuth,
 * Envoy ext_authz), and the decisions must agree; then trust of forwarding headers, unmatched
 * requests, authorizer-only routes, identity headers and the request body that is never read.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { startGateway, createRoute, route, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import { send, basic, type TestResponse } from '../helpers/http.js';
import { run, waitFor } from '../helpers/cli.js';
import { loadBootConfig } from '../../core/config/boot-config.js';

const SECRET = 'a-shared-secret-of-at-least-32-bytes!!';
const token = (scope: string, claims: Record<string, unknown> = {}) =>
  new SignJWT({ sub: 'alice', email: 'alice@example.com', scope, ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('5m')
    .sign(Buffer.from(SECRET));
const verifier = (
  rules: unknown[],
  upstream: unknown = {
    strategy: 'claims-to-headers',
    claimsToHeaders: { sub: 'X-Authenticated-Userid', scope: 'X-Authenticated-Scope', email: 'X-Authenticated-Email' },
  },
) => ({ verifier: { keys: { kind: 'hmac', secret: SECRET }, algorithms: ['HS256'] }, rules, upstream });
const ADMIN_RULES = [
  { path: '/admin(/.*)?', requiredScopes: ['admin'] },
  { path: '/.*', requiredScopes: ['read'] },
];
const KEY_SECRET = 'key-secret-0123456789-abcdef';

interface Case {
  name: string;
  method?: string;
  host?: string;
  path: string;
  headers?: Record<string, string>;
}
type Shape = 'nginx' | 'traefik' | 'envoy';

/** The authorization request an ingress of `shape` sends for `c`. */
function authorizationRequest(authorizerUrl: string, shape: Shape, c: Case): Promise<TestResponse> {
  const method = c.method ?? 'GET';
  const host = c.host ?? 'api.test';
  const headers = { ...c.headers };
  if (shape === 'nginx')
    return send(`${authorizerUrl}/nginx`, {
      headers: {
        ...headers,
        host: 'authorizer.internal',
        'x-original-uri': c.path,
        'x-original-method': method,
        'x-original-host': host,
      },
    });
  if (shape === 'traefik')
    return send(`${authorizerUrl}/traefik`, {
      headers: {
        ...headers,
        host: 'authorizer.internal',
        'x-forwarded-method': method,
        'x-forwarded-host': host,
        'x-forwarded-uri': c.path,
        'x-forwarded-proto': 'https',
      },
    });
  return send(`${authorizerUrl}/envoy${c.path}`, { method, headers: { ...headers, host } });
}

/** The authorizer's counterpart of a proxy status: allowed stays allowed, every refusal is a 401 or 403. */
function expectedDecision(proxyStatus: number, unmatched: number): number {
  if (proxyStatus < 300) return 200;
  if (proxyStatus === 401 || proxyStatus === 403) return proxyStatus;
  if (proxyStatus === 404) return unmatched;
  return 403;
}

describe('External-authorizer mode: the same decisions as the proxy', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let authorizerUrl: string;
  const tokens: Record<string, string> = {};

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await startGateway({
      config: { authorizer: { host: '127.0.0.1', port: 0, trustedProxies: ['127.0.0.1', '::1'], unmatched: 401 } },
    });
    authorizerUrl = gw.gateway.authorizerUrl!;
    await createRoute(gw, route('public', upstream.url, { frontend: { domains: ['api.test'] } }));
    await createRoute(
      gw,
      route('keys', upstream.url, { frontend: { domains: ['api.test/keys'] }, plugins: [{ plugin: 'apikeys' }] }),
    );
    await createRoute(gw, {
      ...route('scoped', upstream.url, {
        frontend: { domains: ['api.test/scoped'] },
        plugins: [{ plugin: 'jwt-verifier', config: verifier(ADMIN_RULES) }],
      }),
      authorizer: { user: true, emailHeader: 'X-Authenticated-Email', accessToken: true },
    });
    await createRoute(
      gw,
      route('ci-admin', upstream.url, {
        frontend: { domains: ['ci.test/admin'], caseSensitive: false },
        plugins: [{ plugin: 'jwt-verifier', config: verifier([{ path: '/.*', requiredScopes: ['admin'] }]) }],
      }),
    );
    await createRoute(gw, route('ci-public', upstream.url, { frontend: { domains: ['ci.test'] } }));
    for (const [clientId, authorized] of [
      ['k1', ['keys']],
      ['k2', ['public']],
    ] as const) {
      const res = await gw.admin('POST', '/api/apikeys', {
        clientId,
        clientSecret: KEY_SECRET,
        clientName: `Client ${clientId}`,
        authorizedEntities: authorized,
      });
      assert.equal(res.status, 201, res.text);
    }
    tokens.read = await token('read');
    tokens.admin = await token('read admin');
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  const matrix = (): Case[] => [
    { name: 'API key missing', path: '/keys/orders' },
    { name: 'API key valid', path: '/keys/orders', headers: { authorization: basic('k1', KEY_SECRET) } },
    {
      name: 'API key with a wrong secret',
      path: '/keys/orders',
      headers: { authorization: basic('k1', 'wrong-secret-0123456789') },
    },
    {
      name: 'API key not authorized for the route',
      path: '/keys/orders',
      headers: { authorization: basic('k2', KEY_SECRET) },
    },
    {
      name: 'API key valid, POST with a query',
      method: 'POST',
      path: '/keys/orders?page=2',
      headers: { authorization: basic('k1', KEY_SECRET) },
    },
    { name: 'token with the scope', path: '/scoped/items', headers: { authorization: `Bearer ${tokens.read}` } },
    {
      name: 'token without the admin scope',
      path: '/scoped/admin/users',
      headers: { authorization: `Bearer ${tokens.read}` },
    },
    {
      name: 'token with the admin scope',
      path: '/scoped/admin/users',
      headers: { authorization: `Bearer ${tokens.admin}` },
    },
    {
      name: 'forged token',
      path: '/scoped/items',
      headers: { authorization: `Bearer ${tokens.read!.slice(0, -4)}AAAA` },
    },
    { name: 'no token', path: '/scoped/items' },
    { name: 'dot segments into the keys route', path: '/public/../keys/orders' },
    {
      name: 'encoded dot segments into the admin rule',
      path: '/scoped/x/%2e%2e/admin/users',
      headers: { authorization: `Bearer ${tokens.read}` },
    },
    { name: 'percent-encoded unreserved characters', path: '/%6beys/orders' },
    { name: 'merged slashes', path: '//keys//orders' },
    { name: 'encoded slash', path: '/public/..%2fkeys/orders' },
    { name: 'double encoding', path: '/public/%252e%252e/keys' },
    { name: 'case: a case-sensitive prefix does not match /KEYS', path: '/KEYS/orders' },
    {
      name: 'case: /ADMIN on a case-insensitive route needs admin',
      host: 'ci.test',
      path: '/ADMIN/panel',
      headers: { authorization: `Bearer ${tokens.read}` },
    },
    {
      name: 'case: /Admin with the admin scope',
      host: 'ci.test',
      path: '/Admin/panel',
      headers: { authorization: `Bearer ${tokens.admin}` },
    },
    { name: 'no route for the host', host: 'unknown.test', path: '/anything' },
  ];

  it('answers every request of the matrix as the proxy decides, in the nginx, Traefik and Envoy shapes', async () => {
    const cases = matrix();
    const statuses = new Set<number>();
    for (const c of cases) {
      const proxied = await gw.proxy(c.path, { host: c.host ?? 'api.test', method: c.method, headers: c.headers });
      const expected = expectedDecision(proxied.status, 401);
      statuses.add(expected);
      for (const shape of ['nginx', 'traefik', 'envoy'] as const) {
        const decided = await authorizationRequest(authorizerUrl, shape, c);
        const where = `${c.name} (${shape}): proxy ${proxied.status} ${proxied.text.slice(0, 120)}`;
        assert.equal(decided.status, expected, `${where}; authorizer ${decided.status} ${decided.text}`);
        if (proxied.status === 401 || proxied.status === 403) {
          assert.equal(decided.json().error, proxied.json().error, where);
          assert.equal(
            decided.headers['www-authenticate'],
            proxied.headers['www-authenticate'],
            `${where}: the same challenge`,
          );
        }
      }
    }
    assert.deepEqual([...statuses].sort(), [200, 401, 403], 'the matrix covers allowed, 401 and 403');
  });

  it('answers 200 with the upstream headers the plugins set and the X-Auth-Request-* headers the route asks for', async () => {
    const keyed = await authorizationRequest(authorizerUrl, 'nginx', {
      name: '',
      path: '/keys/orders',
      headers: { authorization: basic('k1', KEY_SECRET), 'x-consumer-client-id': 'forged' },
    });
    assert.equal(keyed.status, 200);
    assert.equal(keyed.headers['x-consumer-client-id'], 'k1');
    assert.equal(keyed.headers['x-consumer-name'], 'Client k1');
    assert.equal(
      keyed.headers['x-auth-request-user'],
      undefined,
      'the keys route does not ask for X-Auth-Request-User',
    );

    const scoped = await authorizationRequest(authorizerUrl, 'traefik', {
      name: '',
      path: '/scoped/items',
      headers: { authorization: `Bearer ${tokens.read}` },
    });
    assert.equal(scoped.status, 200);
    assert.equal(scoped.headers['x-authenticated-userid'], 'alice');
    assert.equal(scoped.headers['x-authenticated-scope'], 'read');
    assert.equal(scoped.headers['x-auth-request-user'], 'alice');
    assert.equal(scoped.headers['x-auth-request-email'], 'alice@example.com');
    assert.equal(scoped.headers['x-auth-request-access-token'], tokens.read);
  });

  it('a token whose sub HTTP cannot carry: the identity headers for the ingress are percent-encoded (issue 21), never a 5xx', async () => {
    const sub = '山田\r\nx-admin: true';
    const res = await authorizationRequest(authorizerUrl, 'nginx', {
      name: '',
      path: '/scoped/items',
      headers: { authorization: `Bearer ${await token('read', { sub })}` },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers['x-auth-request-user'], '%E5%B1%B1%E7%94%B0%0D%0Ax-admin:%20true');
    assert.equal(res.headers['x-authenticated-userid'], res.headers['x-auth-request-user']);
    assert.equal(res.headers['x-admin'], undefined);
  });

  it('names for Envoy the headers a plugin removed from the request (a forged consumer header)', async () => {
    const res = await authorizationRequest(authorizerUrl, 'envoy', {
      name: '',
      path: '/scoped/items',
      headers: { authorization: `Bearer ${tokens.read}`, 'x-authenticated-email': 'mallory@example.com' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-authenticated-email'], 'alice@example.com');
    const stripped = await authorizationRequest(authorizerUrl, 'envoy', {
      name: '',
      path: '/scoped/items',
      headers: {
        authorization: `Bearer ${await token('read', { email: undefined })}`,
        'x-authenticated-email': 'mallory@example.com',
      },
    });
    assert.equal(stripped.status, 200);
    assert.equal(stripped.headers['x-authenticated-email'], undefined);
    assert.match(String(stripped.headers['x-envoy-auth-headers-to-remove']), /x-authenticated-email/);
  });

  it('decides on the Traefik endpoint from X-Forwarded-Uri even when the client slipped in X-Original-URI (regression: shapes are chosen by endpoint, not guessed)', async () => {
    const res = await send(`${authorizerUrl}/traefik`, {
      headers: {
        host: 'authorizer.internal',
        'x-original-uri': '/public',
        'x-original-method': 'GET',
        'x-forwarded-method': 'GET',
        'x-forwarded-host': 'api.test',
        'x-forwarded-uri': '/keys/orders',
      },
    });
    assert.equal(res.status, 401, 'the keys route decided, not the public one');
    const envoy = await send(`${authorizerUrl}/envoy/keys/orders`, {
      headers: {
        host: 'api.test',
        'x-original-uri': '/public',
        'x-forwarded-uri': '/public',
        'x-forwarded-method': 'GET',
      },
    });
    assert.equal(envoy.status, 401);
  });

  it('refuses an nginx request without its original method or URI rather than guess (403)', async () => {
    const res = await send(`${authorizerUrl}/nginx`, {
      headers: { host: 'authorizer.internal', 'x-original-uri': '/public', 'x-original-host': 'api.test' },
    });
    assert.equal(res.status, 403);
    assert.match(res.json().error_description, /X-Original-Method/);
  });

  it('logs each decision as an access-log line with mode "authorizer"', async () => {
    await authorizationRequest(authorizerUrl, 'nginx', { name: '', path: '/keys/logged' });
    const line = gw.logs.find((l) => l.msg === 'request' && l.path === '/keys/logged');
    assert.ok(line, 'an access-log line for the decision');
    assert.equal(line.mode, 'authorizer');
    assert.equal(line.routeId, 'keys');
    assert.equal(line.status, 401);
    assert.equal(line.target, null);
  });

  it('answers before a large request body arrives, and never reads it', async () => {
    const socket = connect(Number(new URL(authorizerUrl).port), '127.0.0.1');
    socket.write('POST /envoy/keys/upload HTTP/1.1\r\nHost: api.test\r\nContent-Length: 104857600\r\n\r\n');
    socket.write(Buffer.alloc(1024, 1)); // 1 KiB of the announced 100 MiB, and nothing more
    const head = await new Promise<string>((resolve, reject) => {
      let data = '';
      socket.on('data', (chunk: Buffer) => {
        data += chunk.toString('latin1');
        if (data.includes('\r\n\r\n')) resolve(data);
      });
      socket.on('error', reject);
    });
    socket.destroy();
    assert.match(head, /^HTTP\/1\.1 401 /);
    assert.match(head, /connection: close/i, 'the connection is closed rather than drained');
  });

  it('never lets a step read the body: an OAuth endpoint on an authorizer route answers before a slow body arrives', async () => {
    await createRoute(gw, {
      id: 'oauth',
      name: 'OAuth',
      mode: 'authorizer',
      frontend: { domains: ['oauth.test'] },
      plugins: [
        {
          plugin: 'oauth2',
          config: { provisionKey: 'a-provision-key-of-at-least-32-characters', requireHttps: false },
        },
      ],
    });
    const port = Number(new URL(authorizerUrl).port);
    const socket = connect(port, '127.0.0.1');
    socket.write(
      'POST /envoy/oauth2/token HTTP/1.1\r\nHost: oauth.test\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ngrant_type=client_credentials&client_id=',
    );
    const head = await new Promise<string>((resolve, reject) => {
      let data = '';
      socket.on('data', (chunk: Buffer) => {
        data += chunk.toString('latin1');
        if (data.includes('\r\n\r\n')) resolve(data);
      });
      socket.on('error', reject);
    });
    socket.destroy();
    assert.match(
      head,
      /^HTTP\/1\.1 (401|403) /,
      'refused at once: the endpoint saw no body (it would wait for the rest of it otherwise)',
    );
  });

  describe('authorizer-only routes (mode: "authorizer")', () => {
    it('accepts a route without a backend only in authorizer mode', async () => {
      const refused = await gw.admin('POST', '/api/routes', {
        id: 'no-backend',
        name: 'x',
        frontend: { domains: ['only.test'] },
      });
      assert.equal(refused.status, 400);
      assert.match(refused.text, /\/backend/);
      await createRoute(gw, {
        id: 'only',
        name: 'Decided here, served by the ingress',
        mode: 'authorizer',
        frontend: { domains: ['only.test'] },
        plugins: [{ plugin: 'apikeys' }],
      });
    });

    it('is decided by the authorizer and refused by the proxy listener with 421 misdirected_request', async () => {
      const allowed = await authorizationRequest(authorizerUrl, 'nginx', {
        name: '',
        host: 'only.test',
        path: '/x',
        headers: { 'portcullis-client-id': 'k2', 'portcullis-client-secret': KEY_SECRET },
      });
      assert.equal(allowed.status, 403, 'k2 is not authorized for the route: the plugin decides');
      const proxied = await gw.proxy('/x', { host: 'only.test' });
      assert.equal(proxied.status, 421);
      assert.equal(proxied.json().error, 'misdirected_request');
      const missing = await authorizationRequest(authorizerUrl, 'envoy', { name: '', host: 'only.test', path: '/x' });
      assert.equal(missing.status, 401);
    });
  });
});

describe('External-authorizer mode: trust of forwarding headers and unmatched requests', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let authorizerUrl: string;

  before(async () => {
    upstream = await startUpstream(echo);
    // The ingress is elsewhere: this test client (loopback) is not trusted.
    gw = await startGateway({
      config: { authorizer: { host: '127.0.0.1', port: 0, trustedProxies: ['10.0.0.0/8'], unmatched: 403 } },
    });
    authorizerUrl = gw.gateway.authorizerUrl!;
    await createRoute(gw, route('public', upstream.url, { frontend: { domains: ['api.test'] } }));
    await createRoute(
      gw,
      route('keys', upstream.url, { frontend: { domains: ['api.test/keys'] }, plugins: [{ plugin: 'apikeys' }] }),
    );
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  it('refuses the nginx and Traefik endpoints to an address outside authorizer.trustedProxies with 403, whatever the headers say', async () => {
    const shapes: Array<[string, Record<string, string>]> = [
      ['/nginx', { 'x-original-uri': '/', 'x-original-method': 'GET' }],
      ['/traefik', { 'x-forwarded-uri': '/', 'x-forwarded-method': 'GET' }],
    ];
    for (const [endpoint, headers] of shapes) {
      const res = await send(`${authorizerUrl}${endpoint}`, { headers: { host: 'api.test', ...headers } });
      assert.equal(res.status, 403, endpoint);
      assert.match(res.json().error_description, /authorizer\.trustedProxies/);
    }
  });

  it('decides on the Envoy endpoint from its own Host and path, never from X-Forwarded-Host, X-Original-* or X-Forwarded-Uri', async () => {
    const res = await send(`${authorizerUrl}/envoy/keys/x`, {
      headers: {
        host: 'api.test',
        'x-forwarded-host': 'elsewhere.test',
        'x-original-uri': '/public',
        'x-forwarded-uri': '/public',
      },
    });
    assert.equal(res.status, 401, 'the keys route of api.test decided');
    const spoofed = await send(`${authorizerUrl}/envoy/x`, {
      headers: { host: 'elsewhere.test', 'x-forwarded-host': 'api.test' },
    });
    assert.equal(spoofed.status, 403, 'no route for elsewhere.test: the configured unmatched answer');
  });

  it('answers 403 on any other path of the listener', async () => {
    const res = await send(`${authorizerUrl}/keys/x`, { headers: { host: 'api.test' } });
    assert.equal(res.status, 403);
    assert.match(res.json().error_description, /Unknown authorizer endpoint/);
  });

  it('answers the configured 403 (never 404) with a JSON body when no route matches', async () => {
    const res = await send(`${authorizerUrl}/envoy/nothing`, { headers: { host: 'unknown.test' } });
    assert.equal(res.status, 403);
    assert.equal(res.json().error, 'forbidden');
    assert.match(res.json().error_description, /No route/);
  });
});

describe('External-authorizer mode: start-up', () => {
  let dir = '';
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is off by default and turned on by PORTCULLIS_AUTHORIZER_PORT', () => {
    assert.equal(loadBootConfig({ env: {} }).authorizer, undefined);
    const config = loadBootConfig({ env: { PORTCULLIS_AUTHORIZER_PORT: '9191' } });
    assert.deepEqual(config.authorizer, { host: '127.0.0.1', port: 9191, trustedProxies: [], unmatched: 401 });
  });

  it('prints the authorizer listener at start-up and serves it from every cluster worker', async () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-authorizer-cli-'));
    const running = run({
      PORTCULLIS_DATA_FILE: join(dir, 'data.json'),
      PORTCULLIS_AUTHORIZER_PORT: '0',
      PORTCULLIS_WORKERS: '2',
    });
    try {
      // two worker processes on a shared, loaded machine: start-up may take a while
      const url = (await waitFor(running, /Authorizer\s+(http:\/\/\S+)/, 60_000))[1]!;
      const res = await send(`${url}/envoy/anything`, { headers: { host: 'unknown.test' } });
      assert.equal(res.status, 401, res.text);
      assert.equal(res.json().error, 'unauthorized');
    } finally {
      running.child.kill('SIGTERM');
      assert.equal(await running.exited, 0, running.output());
    }
  });
});
