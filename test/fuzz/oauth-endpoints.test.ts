/**
 * Fuzz family 3: the OAuth endpoints of `client-credentials` (token, introspection, revocation,
 * JWKS, RFC 8414 metadata) with generated methods, media types, bodies, client credentials and
 * hosts. Properties: no 5xx; RFC-shaped errors; a failed client authentication is 401
 * `invalid_client` (with a Basic challenge when Basic was used); a token is never granted a scope
 * outside the client's; token responses are `no-store`; a tampered token is never active; the issuer
 * does not follow the Host header.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import fc from 'fast-check';
import { decodeJwt } from 'jose';
import type { TestGateway } from '../helpers/gateway.js';
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
import {
  oauthGateway,
  tokenFor,
  SECRET,
  TOKEN_PATH,
  INTROSPECT_PATH,
  REVOKE_PATH,
  JWKS_PATH,
} from '../plugins/client-credentials/fixtures.js';

const CLIENT_SCOPES: Record<string, string[]> = {
  'cc-client': ['read', 'write'],
  'default-client': ['read'],
  'other-client': [],
};
const CLIENT_ENDPOINTS = new Set([TOKEN_PATH, INTROSPECT_PATH, REVOKE_PATH]);

interface OAuthInput {
  path: string;
  method: string;
  host: string;
  media: 'form' | 'json' | 'multipart' | 'text' | 'none' | 'form-charset';
  auth: 'none' | 'basic' | 'basic-wrong' | 'basic-garbage' | 'post' | 'post-wrong' | 'both';
  clientId: string;
  params: Array<[string, string]>;
  tokenChoice: 'valid' | 'tampered' | 'random' | 'other-client' | 'none';
  tamperAt: number;
}

const SCOPE = fc.oneof(
  fc.constantFrom(
    'read',
    'write',
    'admin',
    'read write',
    'read admin',
    '',
    ' ',
    'read  write',
    'read\twrite',
    'write read read',
    '*',
    'read"',
  ),
  fc.string({ maxLength: 10 }),
);

const INPUT: fc.Arbitrary<OAuthInput> = fc.record({
  path: fc.oneof(
    {
      weight: 9,
      arbitrary: fc.constantFrom(
        TOKEN_PATH,
        TOKEN_PATH,
        TOKEN_PATH,
        INTROSPECT_PATH,
        REVOKE_PATH,
        JWKS_PATH,
        '/.well-known/oauth-authorization-server',
      ),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        `${TOKEN_PATH}/`,
        `${TOKEN_PATH}/x`,
        '/.well-known/otoroshi/oauth/',
        '/.well-known/otoroshi/oauth/%2e%2e/token',
        `${TOKEN_PATH}?a=b`,
        '/.well-known/otoroshi/oauth/TOKEN',
      ),
    },
  ),
  method: fc.oneof(
    { weight: 9, arbitrary: fc.constant('auto') },
    { weight: 1, arbitrary: fc.constantFrom('GET', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'HEAD') },
  ),
  host: fc.oneof(
    { weight: 8, arbitrary: fc.constant('api.test') },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        'evil.example',
        'api.test:8080',
        'API.TEST',
        'localhost',
        '127.0.0.1',
        '[::1]',
        'a.b.c.d.e',
      ),
    },
  ),
  media: fc.constantFrom<OAuthInput['media']>(
    'form',
    'form',
    'form',
    'json',
    'multipart',
    'text',
    'none',
    'form-charset',
  ),
  auth: fc.constantFrom<OAuthInput['auth']>(
    'basic',
    'post',
    'basic',
    'post',
    'basic-wrong',
    'basic-garbage',
    'post-wrong',
    'both',
    'none',
  ),
  clientId: fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom('cc-client', 'default-client', 'other-client') },
    {
      weight: 2,
      arbitrary: fc.constantFrom('unknown', '', 'constructor', '__proto__', 'cc-client%00', 'cc client', 'cc:client'),
    },
  ),
  params: fc.array(
    fc.oneof(
      fc.tuple(
        fc.constant('grant_type'),
        fc.constantFrom(
          'client_credentials',
          'client_credentials',
          'password',
          'authorization_code',
          'refresh_token',
          '',
          'CLIENT_CREDENTIALS',
        ),
      ),
      fc.tuple(fc.constant('scope'), SCOPE),
      fc.tuple(fc.constant('token_type_hint'), fc.constantFrom('access_token', 'refresh_token', 'id_token', '')),
      fc.tuple(
        fc.constantFrom('resource', 'audience', 'unknown', 'client_id', 'redirect_uri', '__proto__'),
        fc.string({ maxLength: 20 }),
      ),
    ),
    { maxLength: 4 },
  ),
  tokenChoice: fc.constantFrom<OAuthInput['tokenChoice']>(
    'valid',
    'tampered',
    'tampered',
    'random',
    'other-client',
    'none',
  ),
  tamperAt: fc.nat(),
});

function encodeBody(
  media: OAuthInput['media'],
  params: Array<[string, string]>,
): { body?: string; contentType?: string } {
  switch (media) {
    case 'form':
      return { body: new URLSearchParams(params).toString(), contentType: 'application/x-www-form-urlencoded' };
    case 'form-charset':
      return {
        body: new URLSearchParams(params).toString(),
        contentType: 'application/x-www-form-urlencoded; charset=UTF-8',
      };
    case 'json':
      return { body: JSON.stringify(Object.fromEntries(params)), contentType: 'application/json' };
    case 'text':
      return { body: new URLSearchParams(params).toString(), contentType: 'text/plain' };
    case 'none':
      return { body: new URLSearchParams(params).toString() };
    case 'multipart': {
      const boundary = '----fuzz' + 'b'.repeat(8);
      const parts = params
        .map(
          ([name, value]) =>
            `--${boundary}\r\ncontent-disposition: form-data; name="${name.replace(/"/g, '%22')}"\r\n\r\n${value}\r\n`,
        )
        .join('');
      return { body: `${parts}--${boundary}--\r\n`, contentType: `multipart/form-data; boundary=${boundary}` };
    }
  }
}

describe('Fuzz: OAuth endpoints (client-credentials)', () => {
  let upstream: Upstream;
  let gw: TestGateway;
  let dataDir: string;
  let client: FuzzClient;
  const valid: Record<string, string> = {};

  before(async () => {
    upstream = await startUpstream(echo);
    dataDir = fuzzDataDir();
    gw = await oauthGateway(upstream, { dataDir, logLevel: 'warn' });
    for (const id of Object.keys(CLIENT_SCOPES)) valid[id] = await tokenFor(gw, id);
    client = new FuzzClient(gw.proxyUrl);
  });

  after(async () => {
    await client?.close();
    await gw?.close();
    rmSync(dataDir, { recursive: true, force: true });
    await upstream?.close();
  });

  async function call(
    input: OAuthInput,
  ): Promise<{ res: FuzzResponse; what: string; tokenSent?: string; basicSent: boolean }> {
    const params: Array<[string, string]> = [];
    const secret = input.auth.endsWith('wrong') ? SECRET + 'x' : SECRET;
    const headers: Record<string, string> = { host: input.host };
    const basicSent = input.auth.startsWith('basic') || input.auth === 'both';
    if (input.auth === 'basic' || input.auth === 'basic-wrong' || input.auth === 'both')
      headers.authorization =
        'Basic ' +
        Buffer.from(`${encodeURIComponent(input.clientId)}:${encodeURIComponent(secret)}`).toString('base64');
    if (input.auth === 'basic-garbage') headers.authorization = `Basic ${input.clientId}:::%%%`;
    if (input.auth === 'post' || input.auth === 'post-wrong' || input.auth === 'both')
      params.push(['client_id', input.clientId], ['client_secret', secret]);
    if (input.path === TOKEN_PATH && !input.params.some(([k]) => k === 'grant_type'))
      params.push(['grant_type', 'client_credentials']);
    let tokenSent: string | undefined;
    if (input.path !== TOKEN_PATH && input.tokenChoice !== 'none') {
      const own = Object.hasOwn(valid, input.clientId) ? valid[input.clientId]! : valid['cc-client']!;
      tokenSent =
        input.tokenChoice === 'valid'
          ? own
          : input.tokenChoice === 'tampered'
            ? tamper(own, input.tamperAt)
            : input.tokenChoice === 'other-client'
              ? valid['other-client']!
              : `x.${input.tamperAt}.y`;
      params.push(['token', tokenSent]);
    }
    params.push(...input.params);
    const method = input.method !== 'auto' ? input.method : CLIENT_ENDPOINTS.has(input.path) ? 'POST' : 'GET';
    const { body, contentType } = method === 'GET' || method === 'HEAD' ? {} : encodeBody(input.media, params);
    if (contentType) headers['content-type'] = contentType;
    const res = await client.request(method, input.path, { headers, body });
    const what = `${method} ${input.path} host=${input.host} auth=${input.auth}(${input.clientId}) ${contentType ?? ''} ${String(body).slice(0, 300)}`;
    return { res, what, tokenSent, basicSent };
  }

  it('token, introspection, revocation, JWKS and metadata: protocol errors only, no scope escalation, tampered tokens inactive', async () => {
    await checkProperty(
      'oauth endpoints',
      INPUT,
      async (input) => {
        const { res, what, tokenSent, basicSent } = await call(input);
        if (input.method === 'HEAD') return void assert.ok(res.status < 500, `${what}: ${res.status}`);
        assertClientError(res, what);
        const clientEndpoint = CLIENT_ENDPOINTS.has(input.path);
        if (res.status === 401 && clientEndpoint) {
          const body = JSON.parse(res.text) as { error: string };
          assert.equal(
            body.error,
            'invalid_client',
            `${what}: 401 must be invalid_client at a token endpoint (RFC 6749 §5.2)`,
          );
          if (basicSent)
            assert.ok(res.headers['www-authenticate'], `${what}: a 401 after Basic authentication needs a challenge`);
        }
        if (clientEndpoint && res.status === 200) {
          assert.match(
            String(res.headers['cache-control']),
            /no-store/,
            `${what}: token endpoint responses must not be cached`,
          );
        }
        if (input.path === TOKEN_PATH && res.status === 200) {
          const body = JSON.parse(res.text) as { access_token: string; token_type: string; scope?: string };
          assert.equal(body.token_type, 'Bearer');
          const claims = decodeJwt(body.access_token);
          const allowed = CLIENT_SCOPES[String(claims.client_id)] ?? [];
          for (const scope of String(claims.scope ?? '')
            .split(' ')
            .filter(Boolean))
            assert.ok(allowed.includes(scope), `${what}: scope escalation, ${scope} granted to ${claims.client_id}`);
          assert.equal(typeof claims.exp, 'number', `${what}: a token without exp`);
        }
        if (input.path === INTROSPECT_PATH && res.status === 200 && tokenSent && input.tokenChoice === 'tampered') {
          assert.equal(JSON.parse(res.text).active, false, `${what}: a tampered token is active`);
        }
      },
      fuzzRuns(0.8),
    );
  });

  it('the issuer of a token does not follow the Host header (RFC 6819 §4.6.x, issue 10 item 9)', async () => {
    const issuers = new Map<string, string>();
    await checkProperty(
      'issuer independent of Host',
      fc.constantFrom('api.test', 'evil.example', 'API.TEST', 'attacker.test:443', 'localhost'),
      async (host) => {
        const res = await client.request('POST', TOKEN_PATH, {
          headers: { host, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'client_credentials',
            client_id: 'cc-client',
            client_secret: SECRET,
          }).toString(),
        });
        assertClientError(res, `token with Host ${host}`);
        if (res.status !== 200) return;
        const iss = String(decodeJwt(JSON.parse(res.text).access_token).iss);
        issuers.set(host, iss);
        const distinct = new Set(issuers.values());
        assert.equal(
          distinct.size,
          1,
          `the issuer follows the Host header: ${JSON.stringify(Object.fromEntries(issuers))}`,
        );
      },
      fuzzRuns(0.2),
    );
  });

  it('the gateway still answers after the fuzzing (no crash, no stuck listener)', async () => {
    const res = await client.request('GET', JWKS_PATH, { headers: { host: 'api.test' } });
    assert.ok(res.status === 200 || res.status === 401, `${res.status} ${res.text}`);
  });
});
