/**
 * Regression suite for issue 21 ("One path, everywhere"): paths a servlet container, a Windows
 * server or a lenient UTF-8 decoder reads as `/admin` (or as a traversal out of `/public`) without
 * writing it. Each variant is tried against every rule engine (oauth2 `scopeRules`, jwt-verifier
 * rules, oauth2-introspection rules, a global plugin's include and exclude), the three authorizer
 * endpoints, real nginx in front of the authorizer, and the request tester: every one answers 400
 * `invalid_request` (a 403 carrying that code on the authorizer, which an ingress passes on) and
 * nothing reaches an upstream. Today's code let each of them pass with a token lacking the scope.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { startGateway, createRoute, route, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import { send, basic, type TestResponse } from '../helpers/http.js';
import { freePort, startNginx, type TestNginx } from '../helpers/nginx.js';
import { startOpaqueProvider, GATEWAY_CLIENT, type OpaqueProvider } from '../plugins/oauth2-introspection/fixtures.js';

const SECRET = 'a-shared-secret-of-at-least-32-bytes!!';
const PROVISION_KEY = 'provision-key-0123456789abcdef-0123456789';
const CLIENT = { id: 'shop', secret: 'shop-secret-0123456789abcdef' };
const jwt = (scope: string) =>
  new SignJWT({ sub: 'u1', scope })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('5m')
    .sign(Buffer.from(SECRET));
const ADMIN_RULES = [
  { path: '/admin(/.*)?', requiredScopes: ['admin'] },
  { path: '/.*', requiredScopes: ['read'] },
];
const jwtVerifier = {
  plugin: 'jwt-verifier',
  config: { verifier: { keys: { kind: 'hmac', secret: SECRET }, algorithms: ['HS256'] }, rules: ADMIN_RULES },
};

/** One per variant of the issue: each spells `/admin` (or climbs out of `/public`) for some upstream. */
const VARIANTS = [
  '/admin;x', // path parameter: Tomcat, Spring, Jetty map `/admin;x` to `/admin`
  '/admin%3B', // encoded `;`, upper and lower case: decoded, then cut as a parameter by some stacks
  '/admin%3b',
  '/admin.', // trailing dot: trimmed by Windows servers and some Java stacks
  '/admin%2E',
  '/public/.../admin', // `...`: trimmed to `..` (or nothing)
  '/public/..%09/admin', // trailing tab
  '/admin%20', // trailing space
  '/%20admin', // leading space: Spring's AntPathMatcher trims path tokens (trimTokens)
  '/public/%c0%ae%c0%ae/admin', // overlong `.` (2 bytes)
  '/public/%e0%80%ae%e0%80%ae/admin', // overlong `.` (3 bytes)
  '/admin%ff', // not UTF-8 at all: dropped or replaced by lenient decoders
  '/public/..%c0%afadmin', // overlong `/`
];
/** Legitimate escapes and dots, which must keep working. */
const ORDINARY = [
  ['/caf%C3%A9', '/caf%C3%A9'],
  ['/caf%c3%a9/x', '/caf%C3%A9/x'],
  ['/v1.2/x', '/v1.2/x'],
  ['/file.txt', '/file.txt'],
  ['/.well-known/x', '/.well-known/x'],
] as const;

function assertRefused(res: TestResponse, variant: string, status = 400): void {
  assert.equal(res.status, status, `${variant}: ${res.text}`);
  assert.equal(res.json().error, 'invalid_request', variant);
}

describe('Issue 21: one normalized path for every rule engine, the authorizer and the tester', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let provider: OpaqueProvider;
  let authorizerUrl: string;
  const tokens: Record<string, string> = {};

  before(async () => {
    upstream = await startUpstream(echo);
    provider = await startOpaqueProvider();
    gw = await startGateway({
      config: { authorizer: { host: '127.0.0.1', port: 0, trustedProxies: ['127.0.0.1'], unmatched: 401 } },
    });
    authorizerUrl = gw.gateway.authorizerUrl!;
    const key = await gw.admin('POST', '/api/apikeys', {
      clientId: CLIENT.id,
      clientSecret: CLIENT.secret,
      clientName: 'Shop',
    });
    assert.equal(key.status, 201, key.text);
    await createRoute(
      gw,
      route('oauth2', upstream.url, {
        frontend: { domains: ['oauth2.test'] },
        plugins: [
          {
            plugin: 'oauth2',
            config: {
              provisionKey: PROVISION_KEY,
              scopes: ['admin', 'orders'],
              requireHttps: false,
              enableClientCredentials: true,
              scopeRules: [{ path: '/admin(/.*)?', scopes: ['admin'] }],
            },
          },
        ],
      }),
    );
    await createRoute(gw, route('jwt', upstream.url, { frontend: { domains: ['jwt.test'] }, plugins: [jwtVerifier] }));
    await createRoute(
      gw,
      route('introspection', upstream.url, {
        frontend: { domains: ['intro.test'] },
        plugins: [
          {
            plugin: 'oauth2-introspection',
            config: {
              introspectionUrl: provider.introspectionUrl,
              clientId: GATEWAY_CLIENT.id,
              clientSecret: GATEWAY_CLIENT.secret,
              rules: [
                { path: '/admin(/.*)?', requiredScopes: ['write'] },
                { path: '/.*', requiredScopes: ['read'] },
              ],
            },
          },
        ],
      }),
    );
    await createRoute(
      gw,
      route('params', upstream.url, {
        frontend: { domains: ['params.test'], allowPathParameters: true },
        plugins: [jwtVerifier],
      }),
    );
    const issued = await send(`${gw.proxyUrl}/oauth2/token`, {
      method: 'POST',
      headers: {
        host: 'oauth2.test',
        authorization: basic(CLIENT.id, CLIENT.secret),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials&scope=orders',
    });
    assert.equal(issued.status, 200, issued.text);
    tokens.oauth2 = issued.json().access_token;
    tokens.jwt = await jwt('read');
    tokens.introspection = await provider.token('read');
    tokens.admin = await jwt('read admin');
  });
  after(async () => {
    await gw.close();
    await upstream.close();
    await provider.close();
  });

  const ENGINES = [
    ['oauth2 scopeRules', 'oauth2.test', 'oauth2'],
    ['jwt-verifier rules', 'jwt.test', 'jwt'],
    ['oauth2-introspection rules', 'intro.test', 'introspection'],
  ] as const;
  const call = (host: string, token: string, path: string) =>
    gw.proxy(path, { host, headers: { authorization: `Bearer ${token}` } });

  for (const [engine, host, name] of ENGINES) {
    describe(`proxy with ${engine}`, () => {
      it('the token lacking the admin scope is refused on /admin, and reaches ordinary paths', async () => {
        const admin = await call(host, tokens[name]!, '/admin/users');
        assert.equal(admin.status, 403, admin.text);
        assert.equal(admin.json().error, 'insufficient_scope');
        for (const [path, normal] of ORDINARY) {
          const res = await call(host, tokens[name]!, path);
          assert.equal(res.status, 200, `${path}: ${res.text}`);
          assert.equal(res.json().url, normal, path);
        }
      });

      for (const variant of VARIANTS) {
        it(`refuses ${variant} with 400 before the rules, forwarding nothing`, async () => {
          const before = upstream.received.length;
          assertRefused(await call(host, tokens[name]!, variant), variant);
          assert.equal(upstream.received.length, before, `${variant}: nothing reached the upstream`);
        });
      }
    });
  }

  describe('authorizer endpoints (jwt-verifier route)', () => {
    const ask = (shape: string, path: string, token: string): Promise<TestResponse> => {
      const headers = { authorization: `Bearer ${token}` };
      if (shape === 'nginx')
        return send(`${authorizerUrl}/nginx`, {
          headers: {
            ...headers,
            host: 'authorizer.internal',
            'x-original-uri': path,
            'x-original-method': 'GET',
            'x-original-host': 'jwt.test',
          },
        });
      if (shape === 'traefik')
        return send(`${authorizerUrl}/traefik`, {
          headers: {
            ...headers,
            host: 'authorizer.internal',
            'x-forwarded-method': 'GET',
            'x-forwarded-host': 'jwt.test',
            'x-forwarded-uri': path,
          },
        });
      return send(`${authorizerUrl}/envoy${path}`, { headers: { ...headers, host: 'jwt.test' } });
    };

    for (const shape of ['nginx', 'traefik', 'envoy']) {
      it(`/${shape}: refuses /admin, allows ordinary paths`, async () => {
        assert.equal((await ask(shape, '/admin/users', tokens.jwt!)).status, 403);
        for (const [path] of ORDINARY) assert.equal((await ask(shape, path, tokens.jwt!)).status, 200, path);
      });

      for (const variant of VARIANTS) {
        it(`/${shape}: refuses ${variant} (403 invalid_request, what an ingress passes on)`, async () => {
          assertRefused(await ask(shape, variant, tokens.jwt!), variant, 403);
        });
      }
    }

    it('on a route allowing path parameters, decides on the path without them', async () => {
      const ask = (path: string, token: string) =>
        send(`${authorizerUrl}/nginx`, {
          headers: {
            authorization: `Bearer ${token}`,
            host: 'authorizer.internal',
            'x-original-uri': path,
            'x-original-method': 'GET',
            'x-original-host': 'params.test',
          },
        });
      assert.equal((await ask('/orders;jsessionid=1/42', tokens.jwt!)).status, 200);
      const refused = await ask('/admin;jsessionid=1', tokens.jwt!);
      assert.equal(refused.status, 403);
      assert.equal(refused.json().error, 'insufficient_scope');
    });
  });

  describe('request tester (jwt-verifier route)', () => {
    const test = (path: string, routeId = 'jwt') =>
      gw.admin('POST', `/api/routes/${routeId}/test`, {
        method: 'GET',
        path,
        headers: { Authorization: `Bearer ${tokens.jwt}` },
      });

    it('allows ordinary paths and refuses /admin like the proxy', async () => {
      for (const [path, normal] of ORDINARY) {
        const res = await test(path);
        assert.equal(res.status, 200, res.text);
        assert.equal(res.json().outcome.decision, 'allowed', path);
        assert.equal(res.json().request.path, normal, path);
      }
      assert.equal((await test('/admin')).json().outcome.error, 'insufficient_scope');
    });

    for (const variant of VARIANTS) {
      it(`refuses ${variant} with 400, as the proxy does`, async () => {
        assertRefused(await test(variant), variant);
      });
    }

    it('on a route allowing path parameters, traces the path without them', async () => {
      const res = await test('/admin;jsessionid=1/users', 'params');
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json().request.path, '/admin/users');
      assert.equal(res.json().outcome.error, 'insufficient_scope');
    });
  });

  describe('a route allowing path parameters (frontend.allowPathParameters)', () => {
    it('matches the rules on the path without its parameters and forwards that path', async () => {
      const refused = await call('params.test', tokens.jwt!, '/admin;jsessionid=1/users');
      assert.equal(refused.status, 403, refused.text);
      assert.equal(refused.json().error, 'insufficient_scope');
      const allowed = await call('params.test', tokens.admin!, '/admin;jsessionid=1/users;v=2');
      assert.equal(allowed.status, 200, allowed.text);
      assert.equal(allowed.json().url, '/admin/users');
    });

    it('still refuses an encoded ";" and every other variant', async () => {
      for (const variant of VARIANTS.filter((v) => !v.includes(';')))
        assertRefused(await call('params.test', tokens.admin!, variant), variant);
    });

    it('is off by default: the route as stored says false', async () => {
      const stored = (await gw.admin('GET', '/api/routes/jwt')).json();
      assert.equal(stored.frontend.allowPathParameters, false);
    });
  });

  it("the gateway's own endpoints (the oauth2 token endpoint) take no path parameters either", async () => {
    const res = await send(`${gw.proxyUrl}/oauth2/token;x`, {
      method: 'POST',
      headers: {
        host: 'oauth2.test',
        authorization: basic(CLIENT.id, CLIENT.secret),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    assertRefused(res, '/oauth2/token;x');
  });
});

describe('Issue 21: a global plugin include/exclude sees the one normalized path', () => {
  let gw: TestGateway;
  let upstream: Upstream;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await startGateway();
    await createRoute(gw, route('open', upstream.url, { frontend: { domains: ['open.test'] } }));
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  const setGlobal = async (instance: Record<string, unknown>) => {
    const global = (await gw.admin('GET', '/api/global-config')).json();
    const res = await gw.admin('PUT', '/api/global-config', {
      ...global,
      plugins: [{ plugin: 'ip-restriction', config: { deny: ['127.0.0.1', '::1'] }, ...instance }],
    });
    assert.equal(res.status, 200, res.text);
  };

  for (const [kind, instance, denied, passes] of [
    ['include', { include: ['/admin(/.*)?'] }, '/admin/users', '/orders'],
    ['exclude', { exclude: ['/public(/.*)?'] }, '/orders', '/public/x'],
  ] as const) {
    describe(`${kind}: ${JSON.stringify(instance)}, denying loopback`, () => {
      before(() => setGlobal(instance));

      it('denies the filtered path and lets the other through', async () => {
        assert.equal((await gw.proxy(denied, { host: 'open.test' })).status, 403);
        assert.equal((await gw.proxy(passes, { host: 'open.test' })).status, 200);
        for (const [path] of ORDINARY)
          assert.equal(
            (await gw.proxy(`${kind === 'exclude' ? '/public' : ''}${path}`, { host: 'open.test' })).status,
            200,
            path,
          );
      });

      for (const variant of VARIANTS) {
        it(`refuses ${variant} with 400, forwarding nothing`, async () => {
          const before = upstream.received.length;
          assertRefused(await gw.proxy(variant, { host: 'open.test' }), variant);
          assert.equal(upstream.received.length, before);
        });
      }
    });
  }
});

describe('Issue 21: through real nginx and the authorizer listener', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let nginx: TestNginx;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await startGateway({
      config: { authorizer: { host: '127.0.0.1', port: 0, trustedProxies: ['127.0.0.1'], unmatched: 401 } },
    });
    // `/public` needs nothing; every other path a token with `read`, `/admin` one with `admin`.
    await createRoute(gw, {
      id: 'public',
      name: 'public',
      mode: 'authorizer',
      frontend: { domains: ['localhost/public'], stripPath: false },
    });
    await createRoute(gw, {
      id: 'api',
      name: 'api',
      mode: 'authorizer',
      frontend: { domains: ['localhost'] },
      plugins: [jwtVerifier],
    });
    const port = await freePort();
    nginx = await startNginx(
      `
  server {
    listen 127.0.0.1:${port};
    location / {
      auth_request /_portcullis;
      proxy_set_header Host $host;
      proxy_pass ${upstream.url};
    }
    location = /_portcullis {
      internal;
      proxy_pass ${gw.gateway.authorizerUrl}/nginx;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URI $request_uri;
      proxy_set_header X-Original-Method $request_method;
      proxy_set_header X-Original-Host $host;
    }
  }`,
      port,
    );
  });
  after(async () => {
    await nginx?.stop();
    await gw?.close();
    await upstream?.close();
  });

  const through = (path: string, token?: string) =>
    send(`${nginx.url}${path}`, {
      headers: { host: 'localhost', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    });

  it('serves /public without a token, refuses /orders without one and /admin with a read token', async () => {
    assert.equal((await through('/public/orders')).status, 200, nginx.errorLog());
    assert.equal((await through('/orders')).status, 401);
    assert.equal((await through('/admin', await jwt('read'))).status, 403);
  });

  for (const trick of [
    '/public/%c0%ae%c0%ae/orders',
    '/public/..%09/orders',
    '/public/.../orders',
    '/public;x/../orders',
    '/public/%e0%80%ae%e0%80%ae/orders',
    '/public/..%c0%aforders',
  ]) {
    it(`refuses ${trick} without a token (not decided as public), forwarding nothing`, async () => {
      const before = upstream.received.length;
      const res = await through(trick);
      assert.equal(res.status, 403, nginx.errorLog());
      assert.equal(upstream.received.length, before);
    });
  }

  for (const variant of VARIANTS) {
    it(`refuses ${variant} with a read token, forwarding nothing`, async () => {
      const before = upstream.received.length;
      const res = await through(variant, await jwt('read'));
      assert.equal(res.status, 403, nginx.errorLog());
      assert.equal(upstream.received.length, before);
    });
  }
});
