/**
 * Issue 21, against a real introspection endpoint on loopback answering fixed JSON texts:
 * - a `sub` or mapped member that HTTP cannot carry (`山田`, an emoji, U+2028, CR/LF, NUL) reaches
 *   the upstream percent-encoded (UTF-8, `%` encoded too): 200, never a 502, never a split header;
 * - an answer naming a member twice (`{"active":false,"active":true}`), at the top or nested, is
 *   refused: 503 `introspection_unavailable` (fail closed), logged.
 */
import 'reflect-metadata';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGateway, createRoute, route, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';

/** The introspection endpoint: the answer's JSON text is chosen by the token (the token is the text's key). */
const ANSWERS = new Map<string, string>();

function answer(token: string, text: string): string {
  ANSWERS.set(token, text);
  return token;
}

const active = (members: Record<string, unknown>) => JSON.stringify({ active: true, scope: 'read', ...members });

/** `sub` values HTTP cannot carry as they are, with what the upstream must receive. */
const SUBJECTS: ReadonlyArray<[string, string, string]> = [
  ['Japanese characters', '山田', '%E5%B1%B1%E7%94%B0'],
  ['an emoji', 'alice😀', 'alice%F0%9F%98%80'],
  ['U+2028', 'alice\u2028bob', 'alice%E2%80%A8bob'],
  ['CR/LF', 'alice\r\nx-admin: true', 'alice%0D%0Ax-admin:%20true'],
  ['NUL', 'alice\u0000', 'alice%00'],
  ['a leading space and a %', ' 100%', '%20100%25'],
];

describe('Plugin: oauth2-introspection (identities that are not header values, duplicate members)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let authority: Server;
  const HOST = 'idents.test';

  before(async () => {
    authority = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on('end', () => {
        const text = ANSWERS.get(new URLSearchParams(body).get('token') ?? '') ?? '{"active":false}';
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(text);
      });
    });
    await new Promise<void>((resolve) => authority.listen(0, '127.0.0.1', resolve));
    const introspectionUrl = `http://127.0.0.1:${(authority.address() as AddressInfo).port}/introspect`;
    upstream = await startUpstream(echo);
    gw = await startGateway();
    await createRoute(
      gw,
      route('idents', upstream.url, {
        frontend: { domains: [HOST] },
        plugins: [
          {
            plugin: 'oauth2-introspection',
            config: {
              introspectionUrl,
              clientId: 'gw',
              clientSecret: 'gw-secret',
              cache: { ttlSeconds: 0 },
              rules: [{ methods: ['GET'], path: '/.*', requiredScopes: ['read'] }],
              upstream: { claimsToHeaders: { name: 'x-user-name', groups: 'x-user-groups' } },
            },
          },
        ],
      }),
    );
  });
  after(async () => {
    await gw.close();
    await upstream.close();
    await new Promise<void>((resolve) => authority.close(() => resolve()));
  });

  const call = (token: string) => gw.proxy('/orders', { host: HOST, headers: { authorization: `Bearer ${token}` } });

  for (const [what, sub, sent] of SUBJECTS) {
    it(`an introspected sub with ${what} reaches the upstream percent-encoded in X-Authenticated-Userid`, async () => {
      const res = await call(answer(`sub-${what}`, active({ sub })));
      assert.equal(res.status, 200, res.text);
      const headers = res.json().headers;
      assert.equal(headers['x-authenticated-userid'], sent);
      assert.equal(decodeURIComponent(headers['x-authenticated-userid']), sub);
      assert.equal(headers['x-admin'], undefined, 'no header split');
    });
  }

  it('mapped members outside ASCII reach the upstream percent-encoded; ASCII ones unchanged', async () => {
    const res = await call(answer('mapped', active({ sub: 'alice', name: '山田 太郎', groups: ['staff', 'día'] })));
    assert.equal(res.status, 200, res.text);
    const headers = res.json().headers;
    assert.equal(headers['x-authenticated-userid'], 'alice');
    assert.equal(headers['x-authenticated-scope'], 'read');
    assert.equal(decodeURIComponent(headers['x-user-name']), '山田 太郎');
    assert.equal(headers['x-user-name'], '%E5%B1%B1%E7%94%B0%20%E5%A4%AA%E9%83%8E');
    assert.equal(headers['x-user-groups'], 'staff%20d%C3%ADa');
  });

  const DUPLICATES: ReadonlyArray<[string, string]> = [
    ['active named twice', '{"active":false,"active":true,"scope":"read","sub":"mallory"}'],
    [
      'active named twice, the second spelled with an escape',
      '{"active":false,"\\u0061ctive":true,"scope":"read","sub":"mallory"}',
    ],
    [
      'a nested member named twice',
      '{"active":true,"scope":"read","sub":"alice","ext":{"role":"user","role":"admin"}}',
    ],
    ['scope named twice', '{"active":true,"scope":"none","scope":"read","sub":"alice"}'],
  ];
  for (const [what, text] of DUPLICATES) {
    it(`an introspection answer with ${what} is refused: 503 introspection_unavailable, logged`, async () => {
      const before = gw.logs.length;
      const res = await call(answer(`dup-${what}`, text));
      assert.equal(res.status, 503, res.text);
      assert.equal(res.json().error, 'introspection_unavailable');
      assert.ok(
        gw.logs.slice(before).some((line) => line.level === 40 && /twice/.test(JSON.stringify(line.err ?? ''))),
        'a warning names the duplicate',
      );
    });
  }
});
