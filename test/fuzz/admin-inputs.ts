/**
 * Generators of admin operations for the admin API and back-office WebSocket fuzzers: mostly valid
 * documents of every entity kind (so inputs pass the schema and reach the hooks, the compiler and
 * the store), each mutated in a few places with values known to hurt (prototype names, impossible
 * dates, out-of-range ports, deep nesting, huge numbers), plus fully random operations.
 */
import fc from 'fast-check';

/** Ids from a small pool (so updates and deletes hit existing entities) plus hostile ones. */
export const ID = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('a', 'b', 'c', 'd', 'e') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'constructor',
      '__proto__',
      'toString',
      'hasOwnProperty',
      'valueOf',
      'prototype',
      '..',
      '.',
      '%2e%2e',
      'a/b',
      'a%2Fb',
      ' ',
      '%00',
      'é',
      'x'.repeat(129),
    ),
  },
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 12 }) },
);

/** Values that break code written for the happy path. */
const NASTY_VALUE: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    null,
    true,
    0,
    -1,
    1e21,
    Number.MAX_SAFE_INTEGER,
    2 ** 31,
    -0,
    0.5,
    '',
    ' ',
    '__proto__',
    'constructor',
    'toString',
    '2020-13-01T00:00Z',
    '2020-02-30T00:00:00Z',
    '9999-99-99T99:99Z',
    '1970-01-01T00:00Z',
    '+275760-09-13T00:00:00Z',
    'http://127.0.0.1:70000',
    'http://[::1',
    'http://[zz]:80',
    'http://h:0',
    'http://h:99999999999',
    'https://a..b',
    'http://%zz',
    'http://-',
    'http://a b',
    '(',
    '[',
    '*',
    '(?<=a)',
    '\\',
    'a{99999999}',
    '\u0000',
    '\r\n',
    'x'.repeat(5000),
    [],
    {},
    [[]],
    { __proto__: 1 },
    { constructor: { prototype: 1 } },
  ),
  deepJson(),
  fc.jsonValue({ maxDepth: 3 }),
);

/** Nesting deep enough to find recursive code without a depth bound. */
function deepJson(): fc.Arbitrary<unknown> {
  return fc.integer({ min: 50, max: 400 }).map((depth) => {
    let value: unknown = 1;
    for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
    return value;
  });
}

/** A JSON document with `__proto__` as an own key (what JSON.parse produces from a client). */
export function withOwnProto(doc: unknown): unknown {
  const json = JSON.stringify(doc);
  return JSON.parse(
    json === '{}' ? '{"__proto__":{"polluted":true}}' : json.replace(/^\{/, '{"__proto__":{"polluted":true},'),
  );
}

const DOMAIN = fc.constantFrom(
  'api.test',
  'fuzz.test',
  '*.fuzz.test',
  '*',
  'fuzz.test/v1',
  'api.test/pre/',
  'fuzz.test/a/b',
);
const HEADER_NAME = fc.constantFrom('x-a', 'x-b', 'Authorization', 'x-req');

function pluginInstance(upstreamUrl: string): fc.Arbitrary<Record<string, unknown>> {
  void upstreamUrl;
  return fc
    .oneof(
      fc.record({
        plugin: fc.constant('headers'),
        config: fc.record({ request: fc.record({ set: fc.dictionary(HEADER_NAME, fc.constantFrom('1', 'v', '')) }) }),
      }),
      fc.record({
        plugin: fc.constant('cors'),
        config: fc.record({
          allowOrigins: fc.constantFrom(['*'], ['https://a.example'], ['https://*.x.dev']),
          maxAgeSeconds: fc.integer({ min: 0, max: 86_400 }),
        }),
      }),
      fc.record({
        plugin: fc.constant('apikeys'),
        config: fc.record({ mandatory: fc.boolean(), validate: fc.boolean() }),
      }),
      fc.record({
        plugin: fc.constant('jwt-verifier'),
        config: fc.record({
          verifiers: fc.constantFrom(['hmac'], ['gateway'], ['missing']),
          rules: fc.constantFrom(
            [{ path: '/.*', requiredScopes: ['read'] }],
            [{ methods: ['POST'], path: '/w.*', requiredScopes: ['write'] }, { path: '/.*' }],
            [{ path: '(', requiredScopes: [] }],
          ),
        }),
      }),
      fc.record({ plugin: fc.constantFrom('no-such-plugin', 'client-credentials'), config: fc.constant({}) }),
    )
    .chain((instance) =>
      fc
        .record(
          {
            enabled: fc.boolean(),
            include: fc.constantFrom([], ['/x.*'], ['(']),
            exclude: fc.constantFrom([], ['/health']),
          },
          { requiredKeys: [] },
        )
        .map((extra) => ({ ...instance, ...extra })),
    );
}

export function validRoute(upstreamUrl: string): fc.Arbitrary<Record<string, unknown>> {
  return fc.record(
    {
      id: ID,
      name: fc.constantFrom('Fuzz route', 'r'),
      enabled: fc.boolean(),
      tags: fc.constantFrom([], ['t1'], ['t1', 't2']),
      frontend: fc.record(
        {
          domains: fc.array(DOMAIN, { minLength: 1, maxLength: 3 }),
          methods: fc.constantFrom([], ['GET'], ['GET', 'POST']),
          exact: fc.boolean(),
          stripPath: fc.boolean(),
        },
        { requiredKeys: ['domains'] },
      ),
      backend: fc.record(
        {
          targets: fc.array(
            fc.record(
              {
                url: fc.oneof(
                  {
                    weight: 9,
                    arbitrary: fc.constantFrom(
                      upstreamUrl,
                      `${upstreamUrl}/base`,
                      'http://127.0.0.1:1',
                      'https://localhost:8443',
                    ),
                  },
                  {
                    weight: 1,
                    arbitrary: fc.constantFrom(
                      'http://127.0.0.1:70000',
                      'http://[::1',
                      'http://h:99999',
                      'http://a_b:80',
                      'https://[fe80::1%25eth0]',
                    ),
                  },
                ),
                weight: fc.integer({ min: 1, max: 1000 }),
              },
              { requiredKeys: ['url'] },
            ),
            { minLength: 1, maxLength: 3 },
          ),
          timeouts: fc.record(
            {
              connectMs: fc.integer({ min: 1, max: 600_000 }),
              headersMs: fc.integer({ min: 1, max: 3_600_000 }),
              bodyMs: fc.integer({ min: 1, max: 3_600_000 }),
            },
            { requiredKeys: [] },
          ),
        },
        { requiredKeys: ['targets'] },
      ),
      plugins: fc.array(pluginInstance(upstreamUrl), { maxLength: 3 }),
    },
    { requiredKeys: ['id', 'name', 'frontend', 'backend'] },
  );
}

export const validApiKey: fc.Arbitrary<Record<string, unknown>> = fc.record(
  {
    clientId: ID,
    clientSecret: fc.constantFrom('fuzz-secret-0123456789', 'another-secret-abcdefgh'),
    clientName: fc.constantFrom('Fuzz client', 'c'),
    enabled: fc.boolean(),
    authorizedEntities: fc.constantFrom([], ['tag:t1'], ['a'], ['fixed']),
    scopes: fc.constantFrom([], ['read'], ['read', 'write']),
    validUntil: fc.constantFrom(
      null,
      '2999-01-01T00:00Z',
      '2001-01-01T00:00:00.000Z',
      '2020-13-01T00:00Z',
      '2021-02-30T00:00Z',
    ),
    throttlingQuota: fc.constantFrom(null, 1, 1000),
    dailyQuota: fc.constantFrom(null, 10),
    metadata: fc.constantFrom(
      {},
      { team: 'x' },
      { 'jwt-sign-keypair': 'portcullis-jwt-signing' },
      { 'jwt-sign-keypair': 'missing' },
    ),
    tags: fc.constantFrom([], ['t1']),
  },
  { requiredKeys: ['clientName'] },
);

export const validKeyPair: fc.Arbitrary<Record<string, unknown>> = fc.record(
  {
    id: ID,
    name: fc.constant('Fuzz key pair'),
    // Only the cheap algorithms: an RSA key takes tens of milliseconds to generate.
    alg: fc.constantFrom('ES256', 'EdDSA', 'ES384'),
    exposed: fc.boolean(),
    kid: fc.constantFrom('k1', 'k2'),
  },
  { requiredKeys: ['name', 'alg'] },
);

export const validJwtVerifier: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record(
    {
      id: ID,
      name: fc.constant('v'),
      keys: fc.constant({ kind: 'hmac', secret: 'a-very-long-shared-secret-of-32-bytes!' }),
      algorithms: fc.constantFrom(['HS256'], ['HS256', 'HS512']),
      issuer: fc.constantFrom('https://issuer.example', ['a', 'b']),
      leewaySeconds: fc.integer({ min: 0, max: 300 }),
      requiredClaims: fc.constantFrom(
        {},
        { tenant: { equals: 'acme' } },
        { email: { regex: '.*@acme\\.com' } },
        { bad: { regex: '(' } },
      ),
    },
    { requiredKeys: ['id', 'name', 'keys', 'algorithms'] },
  ),
  fc.record(
    {
      id: ID,
      name: fc.constant('v'),
      keys: fc.constantFrom(
        { kind: 'keypairs' },
        { kind: 'keypairs', ids: ['portcullis-jwt-signing'] },
        { kind: 'keypairs', ids: ['missing'] },
        { kind: 'jwks', url: 'http://127.0.0.1:1/jwks' },
        { kind: 'jwk', jwk: { kty: 'EC' } },
        { kind: 'pem', pem: 'not a pem' },
      ),
      algorithms: fc.constantFrom(['RS256'], ['ES256', 'RS256'], ['HS256'], ['none']),
      maxAgeSeconds: fc.integer({ min: 1, max: 1e9 }),
    },
    { requiredKeys: ['id', 'name', 'keys', 'algorithms'] },
  ),
);

export const validProfile: fc.Arbitrary<Record<string, unknown>> = fc.record(
  {
    id: ID,
    name: fc.constant('Fuzz profile'),
    owner: fc.constant('Fuzz team'),
    flow: fc.constantFrom('client-credentials', 'authorization-code'),
    clientAuthenticator: fc.constantFrom('client-secret', 'private-key-jwt-jwks-uri', 'private-key-jwt-registered-key'),
    scopes: fc.constantFrom([], ['read'], ['read', 'Function2/*'], ['*']),
    authorizedEntities: fc.constantFrom([], ['fixed'], ['tag:t1'], ['missing']),
    quotas: fc.constantFrom({}, { dailyQuota: 10 }, { throttlingQuota: null }),
    onReject: fc.constantFrom('disable', 'delete'),
    webhook: fc.constantFrom(
      { url: 'http://127.0.0.1:1/hooks', secret: 'fuzz-webhook-secret-0123', maxAttempts: 1 },
      { url: 'http://127.0.0.1:1/hooks' },
    ),
  },
  { requiredKeys: ['id', 'name', 'owner'] },
);

/** Access requests name the profiles of the id pool; the gateway owns their id. */
export const validAccessRequest: fc.Arbitrary<Record<string, unknown>> = fc.record(
  {
    profileId: fc.constantFrom('a', 'b', 'c', 'missing'),
    requester: fc.constantFrom(
      { id: 'org', name: 'Org', email: 'o@o.example' },
      { id: 'x', name: '\u0000', email: 'nope' },
    ),
    requestedScopes: fc.constantFrom([], ['read'], ['Function2/x'], ['read', 'read'], ['write']),
    justification: fc.constant('fuzz'),
    redirectUris: fc.constantFrom([], ['https://app.example/cb']),
    jwksUri: fc.constantFrom('https://keys.example/jwks.json', 'not a url'),
    publicKey: fc.constant('{"kty":"OKP"}'),
  },
  { requiredKeys: ['profileId', 'requester'] },
);

export function validGlobalConfig(upstreamUrl: string): fc.Arbitrary<Record<string, unknown>> {
  return fc.record({
    plugins: fc.array(
      fc.oneof(
        fc.record({
          plugin: fc.constant('client-credentials'),
          config: fc.record(
            {
              secure: fc.boolean(),
              domain: fc.constantFrom('*', 'api\\.test', '('),
              defaultKeyPair: fc.constantFrom('portcullis-jwt-signing', 'missing'),
              expiration: fc.integer({ min: 1000, max: 86_400_000 }),
            },
            { requiredKeys: [] },
          ),
        }),
        pluginInstance(upstreamUrl),
      ),
      { maxLength: 2 },
    ),
  });
}

/** Set, delete or add one property somewhere in `doc` (a deep copy is returned). */
function mutateOnce(doc: unknown, choice: number, value: unknown, key: string, op: 'set' | 'delete' | 'add'): unknown {
  const copy = structuredClone(doc);
  const containers: Array<Record<string, unknown> | unknown[]> = [];
  const walk = (v: unknown, depth: number) => {
    if (depth > 6 || v === null || typeof v !== 'object') return;
    containers.push(v as Record<string, unknown>);
    for (const child of Object.values(v as object)) walk(child, depth + 1);
  };
  walk(copy, 0);
  if (containers.length === 0) return value;
  const target = containers[choice % containers.length]!;
  const keys = Object.keys(target);
  if (op === 'add' || keys.length === 0) {
    if (Array.isArray(target)) target.push(value);
    else Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    const k = keys[choice % keys.length]!;
    if (op === 'delete') {
      if (Array.isArray(target)) target.splice(Number(k), 1);
      else delete target[k];
    } else (target as Record<string, unknown>)[k] = value;
  }
  return copy;
}

const MUTATION = fc.record({
  choice: fc.nat(),
  value: NASTY_VALUE,
  key: fc.constantFrom('__proto__', 'constructor', 'extra', 'id', 'version', 'prototype'),
  op: fc.constantFrom<'set' | 'delete' | 'add'>('set', 'set', 'delete', 'add'),
});

/** A valid document with 0 to 3 mutations (none half the time). */
export function mutated(valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc
    .tuple(
      valid,
      fc.oneof(
        { weight: 5, arbitrary: fc.constant([]) },
        { weight: 5, arbitrary: fc.array(MUTATION, { minLength: 1, maxLength: 3 }) },
      ),
      fc.integer({ min: 0, max: 19 }),
    )
    .map(([doc, mutations, protoRoll]) => {
      let out: unknown = doc;
      for (const m of mutations) out = mutateOnce(out, m.choice, m.value, m.key, m.op);
      return protoRoll === 0 && out !== null && typeof out === 'object' && !Array.isArray(out)
        ? withOwnProto(out)
        : out;
    });
}

/** One admin operation: what the REST API and the WebSocket both express. */
export interface AdminOp {
  kind: string;
  op: 'list' | 'get' | 'create' | 'update' | 'delete' | 'rotate' | 'rotate-secret' | 'import' | 'export';
  id: string;
  body?: unknown;
  query?: Record<string, string>;
}

export function adminOp(upstreamUrl: string, exportDoc: () => unknown): fc.Arbitrary<AdminOp> {
  const docs: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
    routes: validRoute(upstreamUrl),
    apikeys: validApiKey,
    keypairs: validKeyPair,
    'jwt-verifiers': validJwtVerifier,
    'authorization-profiles': validProfile,
    'access-requests': validAccessRequest,
  };
  const entityOp = fc
    .constantFrom(...Object.keys(docs))
    .chain((kind) =>
      fc.record({
        kind: fc.constant(kind),
        op: fc.constantFrom<AdminOp['op']>(
          'create',
          'create',
          'create',
          'update',
          'update',
          'update',
          'delete',
          'get',
          'list',
        ),
        id: ID,
        body: mutated(docs[kind]!),
        query: fc.constantFrom<Record<string, string> | undefined>(
          undefined,
          { tag: 't1' },
          { enabled: 'true' },
          { limit: '0' },
          { offset: '-1' },
          { route: 'a' },
          { route: '__proto__' },
          { limit: '1e400' },
        ),
      }),
    )
    .map((o): AdminOp => {
      // An update names its id in the path: make the body's id agree most of the time.
      const body = o.body as Record<string, unknown> | null;
      if (o.op === 'update' && body && typeof body === 'object' && !Array.isArray(body)) {
        const idField = o.kind === 'apikeys' ? 'clientId' : 'id';
        if (typeof body[idField] === 'string') body[idField] = o.id;
      }
      return o;
    });
  const other = fc.oneof(
    fc.record({
      kind: fc.constant('global-config'),
      op: fc.constantFrom<AdminOp['op']>('update', 'get'),
      id: fc.constant('global'),
      body: mutated(validGlobalConfig(upstreamUrl)),
    }),
    fc.record({
      kind: fc.constant('keypairs'),
      op: fc.constant<AdminOp['op']>('rotate'),
      id: fc.constantFrom('a', 'b', 'portcullis-jwt-signing', 'constructor'),
      body: fc.constantFrom<unknown>(
        undefined,
        {},
        { retireAfterSeconds: 0 },
        { retireAfterSeconds: 60 },
        { retireAfterSeconds: 1e20 },
        { retireAfterSeconds: Number.MAX_SAFE_INTEGER },
        { retireAfterSeconds: -1 },
        { retireAfterSeconds: 'x' },
        [],
        null,
      ),
    }),
    fc.record({ kind: fc.constant('apikeys'), op: fc.constant<AdminOp['op']>('rotate-secret'), id: ID }),
    fc.record({
      kind: fc.constant('import'),
      op: fc.constant<AdminOp['op']>('import'),
      id: fc.constant(''),
      body: fc.constant(null).chain(() => mutated(fc.constant(exportDoc()))),
    }),
    fc.record({
      kind: fc.constant('export'),
      op: fc.constant<AdminOp['op']>('export'),
      id: fc.constant(''),
      query: fc.constantFrom<Record<string, string>>({}, { includePrivateKeys: 'true' }),
    }),
    fc.record({
      kind: fc.constant('revoked-tokens'),
      op: fc.constantFrom<AdminOp['op']>('create', 'list', 'delete'),
      id: ID,
      body: fc.constantFrom({ jti: 'x', clientId: 'a', exp: 1, revokedAt: 'now' }, {}),
    }),
  );
  return fc.oneof({ weight: 8, arbitrary: entityOp }, { weight: 2, arbitrary: other });
}

/** The REST request of an operation. */
export function restRequest(o: AdminOp): { method: string; path: string; body?: unknown } {
  const id = encodeURIComponent(o.id);
  const qs = o.query && Object.keys(o.query).length > 0 ? `?${new URLSearchParams(o.query)}` : '';
  switch (o.op) {
    case 'list':
      return { method: 'GET', path: `/api/${o.kind}${qs}` };
    case 'get':
      return { method: 'GET', path: o.kind === 'global-config' ? '/api/global-config' : `/api/${o.kind}/${id}` };
    case 'create':
      return { method: 'POST', path: `/api/${o.kind}`, body: o.body };
    case 'update':
      return {
        method: 'PUT',
        path: o.kind === 'global-config' ? '/api/global-config' : `/api/${o.kind}/${id}`,
        body: o.body,
      };
    case 'delete':
      return { method: 'DELETE', path: `/api/${o.kind}/${id}` };
    case 'rotate':
      return { method: 'POST', path: `/api/keypairs/${id}/rotate`, body: o.body };
    case 'rotate-secret':
      return { method: 'POST', path: `/api/apikeys/${id}/rotate-secret` };
    case 'import':
      return { method: 'POST', path: '/api/import', body: o.body };
    case 'export':
      return { method: 'GET', path: `/api/export${qs}` };
  }
}

/** Fully random admin requests: any method, path under /api, body and media type. */
export const randomAdminRequest = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
  path: fc
    .array(
      fc.oneof(
        fc.constantFrom(
          'api',
          'routes',
          'apikeys',
          'keypairs',
          'jwt-verifiers',
          'revoked-tokens',
          'global-config',
          'import',
          'export',
          'plugins',
          'schemas',
          'rotate',
          'rotate-secret',
          '%',
          '%zz',
          '..',
          '',
          '__proto__',
        ),
        fc.webSegment(),
      ),
      { minLength: 1, maxLength: 4 },
    )
    .map((segments) => `/api/${segments.join('/')}`),
  query: fc.constantFrom('', '?limit=5', '?offset=x', '?tag=', '?%zz', '?includePrivateKeys=true'),
  contentType: fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'text/plain',
    'application/x-www-form-urlencoded',
    'application/merge-patch+json',
    '',
  ),
  body: fc.oneof(
    fc.constant(undefined),
    fc.json({ maxDepth: 4 }),
    fc.string({ maxLength: 200 }),
    fc.constantFrom(
      '['.repeat(100_000),
      '{"a":'.repeat(20_000),
      '\u0000',
      '{"__proto__":{"x":1}}',
      'null',
      `{"id":"deep","name":"x","frontend":{"domains":["deep.test"]},"backend":{"targets":[{"url":"http://127.0.0.1:1"}]},"tags":${'['.repeat(20_000)}${']'.repeat(20_000)}}`,
      `{"name":"x","metadata":${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}}`,
      '1e999',
      '"\\ud800"',
    ),
  ),
});
