/**
 * Fuzz family 4: routes protected by `apikeys` and `jwt-verifier`, with generated paths, headers,
 * credentials and tokens. Properties: no 5xx (the upstream is healthy); RFC-shaped errors, 401s
 * with a WWW-Authenticate challenge; tampered, unsigned or random tokens and wrong secrets never
 * pass; a token with only `read` never reaches the upstream under `/admin`, however the path is
 * spelled (percent-encoding, `//`, dot segments), on a plain and on a prefixed route; an HMAC token
 * passes only with a future `exp`, and no `nbf`/`iat` in the future.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import fc from 'fast-check';
import { SignJWT, decodeJwt } from 'jose';
import { createRoute, route, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import {
  FuzzClient,
  assertClientError,
  checkProperty,
  fuzzDataDir,
  fuzzRuns,
  tamper,
  type FuzzResponse,
} from '../helpers/fuzz.js';
import { oauthGateway, tokenFor, SECRET } from '../plugins/client-credentials/fixtures.js';

const HMAC_SECRET = 'a-very-long-shared-secret-of-32-bytes!';
const LEEWAY = 5;
const ADMIN_RULES = [
  { path: '/admin(/.*)?', requiredScopes: ['admin'] },
  { path: '/.*', requiredScopes: ['read'] },
];

/**
 * The path an upstream may act on: every percent-encoding decoded (an upstream may decode `%2F`
 * too), backslashes as slashes, `;` parameters cut, trailing dots and whitespace trimmed, empty
 * segments dropped, dot segments resolved.
 */
export function effectivePath(url: string): string {
  // Lenient decoders read overlong UTF-8 as ASCII (issue 21): `%c0%ae` is `.`, `%c0%af` is `/`.
  let path = url
    .split('?')[0]!
    .replace(/%c0%ae|%e0%80%ae/gi, '.')
    .replace(/%c0%af|%e0%80%af/gi, '/');
  for (let i = 0; i < 3; i++) {
    try {
      path = decodeURIComponent(path);
    } catch {
      path = path.replace(/%([0-9a-f]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
    }
  }
  const out: string[] = [];
  for (const raw of path.replace(/\\/g, '/').split('/')) {
    // Servlet containers cut `;` parameters; Windows servers and some Java stacks trim trailing dots
    // and whitespace, so `...` and `..\t` climb like `..`.
    const cut = raw.split(';')[0]!;
    const segment = /^[.\s]*\.\.[.\s]*$/.test(cut) ? '..' : cut === '.' ? cut : cut.replace(/[.\s]+$/, '');
    if (segment === '' || segment === '.') continue;
    if (segment === '..') out.pop();
    else out.push(segment);
  }
  return '/' + out.join('/');
}

const ADMIN_SPELLINGS = [
  '/admin',
  '/admin/',
  '/admin/x',
  '//admin',
  '/./admin',
  '/x/../admin',
  '/%61dmin',
  '/%61%64%6d%69%6e/x',
  '/admin%2fx',
  '/x/..%2fadmin',
  '/x/%2e%2e/admin',
  '/%2e%2e/admin',
  '/x/..%5cadmin',
  '/.%2e/admin',
  '/a/./../admin/',
  '/admin;x',
  '/admin%00',
  '/ADMIN',
  '/Admin/x',
  '/admin?x=1',
  '/admin#x',
  '/%2fadmin',
  '/x%2f..%2fadmin',
  '/admin.',
  '/admin%20',
  // issue 21: what servlet containers, Windows servers and lenient UTF-8 decoders read as /admin
  '/admin;x/y',
  '/admin%3B',
  '/admin%3bx',
  '/admin%2E',
  '/x/.../admin',
  '/x/..%09/admin',
  '/admin%09',
  '/x/%c0%ae%c0%ae/admin',
  '/x/%e0%80%ae%e0%80%ae/admin',
  '/x/..%c0%afadmin',
  '/admin%ff',
];
const PATH = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...ADMIN_SPELLINGS) },
  {
    weight: 3,
    arbitrary: fc.constantFrom('/', '/orders', '/orders/1', '/a/b/c', '/x?y=z', '/%zz', '/%', '/..', '/../..', '/a//b'),
  },
  {
    weight: 3,
    arbitrary: fc
      .array(
        fc.oneof(
          fc.constantFrom('admin', '..', '.', '%2e', '%2E%2E', '%2f', '%5c', '', '%61dmin', 'x'),
          fc.stringMatching(/^[A-Za-z0-9._~!$&'()*+,;=:@-]{1,8}$/),
        ),
        { minLength: 1, maxLength: 5 },
      )
      .map((s) => '/' + s.join('/')),
  },
);

type Credential =
  | 'none'
  | 'basic'
  | 'basic-wrong'
  | 'basic-garbage'
  | 'headers'
  | 'headers-wrong'
  | 'bearer-read'
  | 'bearer-admin'
  | 'bearer-tampered'
  | 'bearer-none-alg'
  | 'bearer-random'
  | 'bearer-lowercase'
  | 'bearer-other-client';

interface RouteInput {
  host: 'keys.test' | 'jwt.test' | 'jwt.test/v1';
  path: string;
  method: string;
  credential: Credential;
  tamperAt: number;
  extraHeaders: Array<[string, string]>;
}

const HEADER = fc.tuple(
  fc.constantFrom(
    'x-forwarded-for',
    'x-forwarded-host',
    'x-forwarded-proto',
    'x-consumer-client-id',
    'x-consumer-name',
    'portcullis-client-id',
    'cookie',
    'x-request-id',
    'x-original-url',
    'x-rewrite-url',
  ),
  fc.stringMatching(/^[\x21-\x7e ]{0,40}$/),
);

const ROUTE_INPUT: fc.Arbitrary<RouteInput> = fc.record({
  host: fc.constantFrom<RouteInput['host']>('keys.test', 'jwt.test', 'jwt.test/v1'),
  path: PATH,
  method: fc.constantFrom('GET', 'GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'),
  credential: fc.constantFrom<Credential>(
    'none',
    'basic',
    'basic-wrong',
    'basic-garbage',
    'headers',
    'headers-wrong',
    'bearer-read',
    'bearer-read',
    'bearer-admin',
    'bearer-tampered',
    'bearer-none-alg',
    'bearer-random',
    'bearer-lowercase',
    'bearer-other-client',
  ),
  tamperAt: fc.nat(),
  extraHeaders: fc.array(HEADER, { maxLength: 2 }),
});

describe('Fuzz: protected routes (apikeys, jwt-verifier)', () => {
  let upstream: Upstream;
  let gw: TestGateway;
  let dataDir: string;
  let client: FuzzClient;
  const tokens: Record<string, string> = {};

  before(async () => {
    upstream = await startUpstream(echo);
    dataDir = fuzzDataDir();
    gw = await oauthGateway(upstream, { dataDir, logLevel: 'warn' });
    const verifier = await gw.admin('POST', '/api/jwt-verifiers', {
      id: 'gateway',
      name: 'Gateway tokens',
      keys: { kind: 'keypairs' },
      algorithms: ['RS256', 'ES256'],
      typ: 'at+jwt',
      leewaySeconds: LEEWAY,
    });
    assert.equal(verifier.status, 201, verifier.text);
    const hmac = await gw.admin('POST', '/api/jwt-verifiers', {
      id: 'hmac',
      name: 'HMAC tokens',
      keys: { kind: 'hmac', secret: HMAC_SECRET },
      algorithms: ['HS256'],
      leewaySeconds: LEEWAY,
    });
    assert.equal(hmac.status, 201, hmac.text);
    await createRoute(
      gw,
      route('keys', upstream.url, {
        frontend: { domains: ['keys.test'] },
        plugins: [{ plugin: 'apikeys', config: {} }],
      }),
    );
    await createRoute(
      gw,
      route('jwt', upstream.url, {
        frontend: { domains: ['jwt.test'] },
        plugins: [{ plugin: 'jwt-verifier', config: { verifiers: ['gateway'], rules: ADMIN_RULES } }],
      }),
    );
    await createRoute(
      gw,
      route('jwt-prefixed', upstream.url, {
        frontend: { domains: ['jwt.test/v1'] },
        plugins: [{ plugin: 'jwt-verifier', config: { verifiers: ['gateway'], rules: ADMIN_RULES } }],
      }),
    );
    await createRoute(
      gw,
      route('hmac', upstream.url, {
        frontend: { domains: ['hmac.test'] },
        plugins: [{ plugin: 'jwt-verifier', config: { verifiers: ['hmac'] } }],
      }),
    );
    for (const [id, scopes] of [
      ['fz-read', ['read']],
      ['fz-admin', ['read', 'admin']],
    ] as const) {
      const res = await gw.admin('POST', '/api/apikeys', {
        clientId: id,
        clientSecret: SECRET,
        clientName: id,
        scopes,
        authorizedEntities: ['keys'],
      });
      assert.equal(res.status, 201, res.text);
      tokens[id] = await tokenFor(gw, id);
    }
    tokens.other = await tokenFor(gw, 'other-client');
    client = new FuzzClient(gw.proxyUrl);
  });

  after(async () => {
    await client?.close();
    await gw?.close();
    rmSync(dataDir, { recursive: true, force: true });
    await upstream?.close();
  });

  function credentialHeaders(input: RouteInput): Record<string, string> {
    const read = tokens['fz-read']!;
    const unsigned = `${Buffer.from('{"alg":"none","typ":"at+jwt"}').toString('base64url')}.${read.split('.')[1]}.`;
    switch (input.credential) {
      case 'none':
        return {};
      case 'basic':
        return { authorization: 'Basic ' + Buffer.from(`fz-read:${SECRET}`).toString('base64') };
      case 'basic-wrong':
        return { authorization: 'Basic ' + Buffer.from(`fz-read:${SECRET}x`).toString('base64') };
      case 'basic-garbage':
        return { authorization: `Basic ${'%'.repeat(input.tamperAt % 5)}::${input.tamperAt}` };
      case 'headers':
        return { 'portcullis-client-id': 'fz-read', 'portcullis-client-secret': SECRET };
      case 'headers-wrong':
        return { 'portcullis-client-id': 'fz-read', 'portcullis-client-secret': SECRET.slice(1) };
      case 'bearer-read':
        return { authorization: `Bearer ${read}` };
      case 'bearer-admin':
        return { authorization: `Bearer ${tokens['fz-admin']}` };
      case 'bearer-tampered':
        return { authorization: `Bearer ${tamper(read, input.tamperAt)}` };
      case 'bearer-none-alg':
        return { authorization: `Bearer ${unsigned}` };
      case 'bearer-random':
        return {
          authorization: `Bearer ${Buffer.from(String(input.tamperAt)).toString('base64url')}.e30.${input.tamperAt}`,
        };
      case 'bearer-lowercase':
        return { authorization: `bearer   ${read}` };
      case 'bearer-other-client':
        return { authorization: `Bearer ${tokens.other}` };
    }
  }

  const isValid = (c: Credential, host: string) =>
    host === 'keys.test'
      ? ['basic', 'headers', 'bearer-read', 'bearer-admin', 'bearer-lowercase'].includes(c)
      : ['bearer-read', 'bearer-admin', 'bearer-lowercase', 'bearer-other-client'].includes(c);

  function checkDenial(res: FuzzResponse, what: string): void {
    assertClientError(res, what);
    if (res.status === 401)
      assert.ok(res.headers['www-authenticate'], `${what}: 401 without a WWW-Authenticate challenge (RFC 6750 §3)`);
  }

  it('generated requests: no 5xx, challenges on 401, forged credentials never pass', async () => {
    await checkProperty(
      'protected routes',
      ROUTE_INPUT,
      async (input) => {
        const slash = input.host.indexOf('/');
        const host = slash === -1 ? input.host : input.host.slice(0, slash);
        const path = slash === -1 ? input.path : input.host.slice(slash) + input.path;
        const headers: Record<string, string> = {
          ...Object.fromEntries(input.extraHeaders),
          ...credentialHeaders(input),
          host,
        };
        let res: FuzzResponse;
        try {
          res = await client.request(input.method, path, { headers });
        } catch (error) {
          if ((error as { code?: string }).code === 'UND_ERR_INVALID_ARG') return; // undici refuses to send it: not an input the gateway sees
          throw error;
        }
        const what = `${input.method} ${input.host} ${path} ${input.credential} ${JSON.stringify(input.extraHeaders)}`;
        if (res.status >= 400) checkDenial(res, what);
        if (res.status < 300 && !isValid(input.credential, input.host))
          throw new Error(`${what}: ${res.status} with a forged or wrong credential`);
        if (
          res.status === 200 &&
          input.host !== 'keys.test' &&
          input.method !== 'OPTIONS' &&
          input.credential !== 'bearer-admin'
        ) {
          const received = JSON.parse(res.text) as { url: string };
          const effective = effectivePath(received.url);
          if (/^\/admin(\/|$)/.test(effective))
            throw new Error(
              `${what}: a token without the admin scope reached the upstream at ${received.url} (acts on ${effective})`,
            );
        }
      },
      fuzzRuns(0.75),
    );
  });

  it('HMAC tokens pass only with a future exp and no nbf or iat in the future (RFC 7519 §4.1.4-6, RFC 8725 §3.10)', async () => {
    const OFFSET = fc.oneof(fc.constant<number | null>(null), fc.constantFrom(-7200, -600, 600, 7200, 10 ** 9));
    await checkProperty(
      'hmac claims',
      fc.record({ exp: OFFSET, nbf: OFFSET, iat: OFFSET, path: PATH }),
      async ({ exp, nbf, iat, path }) => {
        const now = Math.floor(Date.now() / 1000);
        const claims: Record<string, number | string> = { sub: 'fuzz', scope: 'read' };
        if (exp !== null) claims.exp = now + exp;
        if (nbf !== null) claims.nbf = now + nbf;
        if (iat !== null) claims.iat = now + iat;
        const token = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(Buffer.from(HMAC_SECRET));
        let res: FuzzResponse;
        try {
          res = await client.request('GET', path, { headers: { host: 'hmac.test', authorization: `Bearer ${token}` } });
        } catch (error) {
          if ((error as { code?: string }).code === 'UND_ERR_INVALID_ARG') return;
          throw error;
        }
        const what = `GET hmac.test${path} claims ${JSON.stringify({ exp, nbf, iat })} (offsets from now)`;
        if (res.status >= 400) checkDenial(res, what);
        if (res.status === 200) {
          const c = decodeJwt(token);
          assert.ok(c.exp !== undefined && c.exp > now - LEEWAY, `${what}: accepted a token without a future exp`);
          assert.ok(c.nbf === undefined || c.nbf <= now + LEEWAY, `${what}: accepted a token not yet valid (nbf)`);
          assert.ok(
            c.iat === undefined || c.iat <= now + LEEWAY,
            `${what}: accepted a token issued in the future (iat)`,
          );
        }
      },
      fuzzRuns(0.25),
    );
  });

  it('the gateway still answers after the fuzzing (no crash, no stuck listener)', async () => {
    const res = await client.request('GET', '/', { headers: { host: 'keys.test' } });
    assert.ok(res.status === 200 || res.status === 401, `${res.status} ${res.text}`);
  });
});
