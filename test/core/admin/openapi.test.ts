import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Validator } from '@seriousme/openapi-schema-validator';
import { startGateway, route, type TestGateway } from '../../helpers/gateway.js';
import { send } from '../../helpers/http.js';
import { AdminApi } from '../../../core/admin/admin-api.js';

// The JSON Schema 2020-12 validator the OpenAPI validator itself runs on (Ajv 8), resolved from it.
const fromValidator = createRequire(import.meta.resolve('@seriousme/openapi-schema-validator'));
const Ajv2020 = fromValidator('ajv/dist/2020.js') as { default: new (options: object) => AjvInstance };
const addFormats = fromValidator('ajv-formats') as { default: (ajv: AjvInstance) => void };
interface AjvInstance {
  compile(schema: object): ((data: unknown) => boolean) & { errors?: unknown[] | null };
}

type Json = Record<string, any>;
const METHODS = ['get', 'post', 'put', 'delete', 'patch'];

interface Exercise {
  method: string;
  path: string;
  body?: Json | ((answers: Map<string, any>) => unknown);
  status: number;
}

/**
 * One request per documented endpoint (more where useful), in an order that builds what the next
 * ones need. A documented endpoint missing here fails the test: add its exercise.
 */
const EXERCISES: Exercise[] = [
  { method: 'GET', path: '/api/openapi.json', status: 200 },
  { method: 'GET', path: '/api/plugins', status: 200 },
  {
    method: 'POST',
    path: '/api/plugins/summaries',
    body: {
      plugins: [{ plugin: 'headers', config: { request: { set: { 'X-A': '1' } } } }, { plugin: 'client-credentials' }],
    },
    status: 200,
  },
  { method: 'POST', path: '/api/plugins/summaries', body: { plugins: 'none' }, status: 400 },
  { method: 'GET', path: '/api/schemas', status: 200 },
  { method: 'GET', path: '/api/global-config', status: 200 },
  { method: 'PUT', path: '/api/global-config', body: { plugins: [] }, status: 200 },
  { method: 'POST', path: '/api/routes', body: route('r1', 'http://127.0.0.1:9', { tags: ['t'] }), status: 201 },
  { method: 'POST', path: '/api/routes', body: { id: 'bad id' }, status: 400 },
  { method: 'GET', path: '/api/routes?tag=t&enabled=true&offset=0&limit=10', status: 200 },
  { method: 'GET', path: '/api/routes?limit=0', status: 400 },
  { method: 'GET', path: '/api/routes/r1', status: 200 },
  { method: 'GET', path: '/api/routes/nope', status: 404 },
  {
    method: 'PUT',
    path: '/api/routes/r1',
    body: (a) => ({ ...a.get('GET /api/routes/r1'), name: 'renamed' }),
    status: 200,
  },
  { method: 'POST', path: '/api/routes/r1/test', body: { method: 'GET', path: '/orders' }, status: 200 },
  { method: 'POST', path: '/api/routes/r1/test', body: { path: 'no-slash' }, status: 400 },
  { method: 'GET', path: '/api/warnings', status: 200 },
  { method: 'POST', path: '/api/warnings/route', body: route('r2', 'http://127.0.0.1:9'), status: 200 },
  { method: 'POST', path: '/api/warnings/route', body: { id: 'bad id' }, status: 400 },
  { method: 'GET', path: '/api/traffic/history?limit=5&route=r1', status: 200 },
  { method: 'GET', path: '/api/traffic/history?limit=1001', status: 400 },
  { method: 'POST', path: '/api/keypairs', body: { id: 'kp', name: 'kp', alg: 'ES256' }, status: 201 },
  { method: 'GET', path: '/api/keypairs', status: 200 },
  { method: 'GET', path: '/api/keypairs/kp', status: 200 },
  {
    method: 'PUT',
    path: '/api/keypairs/kp',
    body: (a) => ({ ...a.get('GET /api/keypairs/kp'), name: 'renamed' }),
    status: 200,
  },
  { method: 'POST', path: '/api/keypairs/kp/rotate', body: { retireAfterSeconds: 60 }, status: 200 },
  {
    method: 'POST',
    path: '/api/apikeys',
    body: { clientId: 'k1', clientName: 'k1', authorizedEntities: ['r1'] },
    status: 201,
  },
  { method: 'GET', path: '/api/apikeys?route=r1', status: 200 },
  { method: 'GET', path: '/api/apikeys/k1', status: 200 },
  {
    method: 'PUT',
    path: '/api/apikeys/k1',
    body: (a) => ({ ...a.get('GET /api/apikeys/k1'), clientName: 'renamed' }),
    status: 200,
  },
  { method: 'POST', path: '/api/apikeys/k1/rotate-secret', status: 200 },
  { method: 'POST', path: '/api/apikeys/k1/revoke-tokens', status: 200 },
  {
    method: 'POST',
    path: '/api/jwt-verifiers',
    body: {
      id: 'v1',
      name: 'v1',
      keys: { kind: 'hmac', secret: 'a-very-long-shared-secret-of-32-bytes!' },
      algorithms: ['HS256'],
    },
    status: 201,
  },
  { method: 'GET', path: '/api/jwt-verifiers', status: 200 },
  { method: 'GET', path: '/api/jwt-verifiers/v1', status: 200 },
  {
    method: 'PUT',
    path: '/api/jwt-verifiers/v1',
    body: (a) => ({ ...a.get('GET /api/jwt-verifiers/v1'), name: 'renamed' }),
    status: 200,
  },
  { method: 'GET', path: '/api/oauth2/grants?client=k1', status: 200 },
  { method: 'POST', path: '/api/oauth2/grants/revoke?client=k1', status: 200 },
  { method: 'DELETE', path: '/api/oauth2/grants/none', status: 404 },
  {
    method: 'POST',
    path: '/api/routes',
    body: route('r2', 'http://127.0.0.1:9', { plugins: [{ plugin: 'oauth2', config: { requireHttps: false } }] }),
    status: 201,
  },
  { method: 'POST', path: '/api/routes/r2/plugins/oauth2/provision-key', status: 200 },
  { method: 'POST', path: '/api/routes/r1/plugins/oauth2/provision-key', status: 404 },
  { method: 'POST', path: '/api/tokens', body: { name: 'portal', scopes: ['access-requests:create'] }, status: 201 },
  { method: 'POST', path: '/api/tokens', body: { name: 'bad', scopes: ['everything'] }, status: 400 },
  { method: 'GET', path: '/api/tokens', status: 200 },
  { method: 'GET', path: '/api/tokens/{token}', status: 200 },
  {
    method: 'POST',
    path: '/api/authorization-profiles',
    body: {
      id: 'p1',
      name: 'p1',
      owner: 'team',
      flow: 'client-credentials',
      clientAuthenticator: 'client-secret',
      scopes: ['read'],
      authorizedEntities: ['r1'],
    },
    status: 201,
  },
  { method: 'GET', path: '/api/authorization-profiles', status: 200 },
  { method: 'GET', path: '/api/authorization-profiles/p1', status: 200 },
  {
    method: 'PUT',
    path: '/api/authorization-profiles/p1',
    body: (a) => ({ ...a.get('GET /api/authorization-profiles/p1'), name: 'renamed' }),
    status: 200,
  },
  {
    method: 'POST',
    path: '/api/access-requests',
    body: {
      profileId: 'p1',
      requester: { id: 'acme', name: 'Acme', email: 'dev@acme.example' },
      requestedScopes: ['read'],
    },
    status: 201,
  },
  { method: 'GET', path: '/api/access-requests?state=pending', status: 200 },
  { method: 'GET', path: '/api/access-requests/{request}', status: 200 },
  { method: 'GET', path: '/api/access-requests/{request}/events', status: 200 },
  { method: 'GET', path: '/api/access-requests/{request}/deliveries', status: 200 },
  {
    method: 'POST',
    path: '/api/access-requests/{request}/approve',
    body: { scopes: ['read'], reason: 'ok' },
    status: 200,
  },
  { method: 'POST', path: '/api/access-requests/{request}/reject', body: { reason: 'too late' }, status: 409 },
  { method: 'POST', path: '/api/access-requests/{request}/revoke', body: { reason: 'ended' }, status: 200 },
  { method: 'DELETE', path: '/api/access-requests/{request}', status: 204 },
  { method: 'DELETE', path: '/api/apikeys/{requestKey}', status: 204 },
  { method: 'DELETE', path: '/api/authorization-profiles/p1', status: 204 },
  { method: 'DELETE', path: '/api/tokens/{token}', status: 204 },
  { method: 'DELETE', path: '/api/routes/r2', status: 204 },
  { method: 'GET', path: '/api/export', status: 200 },
  { method: 'POST', path: '/api/import', body: (a) => a.get('GET /api/export'), status: 200 },
  { method: 'DELETE', path: '/api/jwt-verifiers/v1', status: 204 },
  { method: 'DELETE', path: '/api/apikeys/k1', status: 204 },
  { method: 'DELETE', path: '/api/routes/r1', status: 204 },
  { method: 'DELETE', path: '/api/keypairs/kp', status: 204 },
];

/** `{token}`, `{request}`, `{requestKey}`: the ids of the API token, access request and its API key created earlier in the sequence. */
function resolvePath(path: string, answers: Map<string, any>): string {
  return path
    .replace('{token}', () => String(answers.get('POST /api/tokens')?.id))
    .replace('{requestKey}', () => String(answers.get('GET /api/access-requests/{request}')?.apiKeyId))
    .replace('{request}', () => String(answers.get('POST /api/access-requests')?.id));
}

/** The documented operation an actual path falls under: `{id}` matches one non-empty segment. */
function operationFor(doc: Json, method: string, path: string): { template: string; operation: Json } | null {
  const segments = path.split('?')[0]!.split('/');
  for (const [template, item] of Object.entries(doc.paths as Json)) {
    const parts = template.split('/');
    if (
      parts.length !== segments.length ||
      !parts.every((p, i) => (p.startsWith('{') ? segments[i] !== '' : p === segments[i]))
    )
      continue;
    const operation = (item as Json)[method.toLowerCase()];
    if (operation) return { template, operation };
  }
  return null;
}

function responseFor(operation: Json, status: number): Json | undefined {
  return operation.responses[String(status)] ?? operation.responses[`${String(status)[0]}XX`];
}

describe('Admin API: OpenAPI 3.1 document', () => {
  let gw: TestGateway;
  let doc: Json;
  before(async () => {
    gw = await startGateway();
    const res = await gw.admin('GET', '/api/openapi.json');
    assert.equal(res.status, 200);
    doc = res.json();
  });
  after(() => gw.close());

  it('is served at /api/openapi.json behind the admin credentials', async () => {
    assert.equal((await send(`${gw.adminUrl}/api/openapi.json`)).status, 401);
    assert.equal(doc.openapi, '3.1.0');
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(doc);
    assert.deepEqual(result.errors ?? [], []);
    assert.equal(result.valid, true);
  });

  it('lists every endpoint of the admin route table, with or without declared schemas', (t) => {
    const table = gw.gateway.container.resolve(AdminApi).routes;
    for (const r of table) {
      const template = r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      assert.ok(doc.paths[template]?.[r.method.toLowerCase()], `${r.method} ${r.path} is missing from the document`);
    }
    const count = Object.values(doc.paths as Json).reduce(
      (n, item) => n + Object.keys(item).filter((m) => METHODS.includes(m)).length,
      0,
    );
    assert.equal(count, table.length);
    const withoutSchemas = table.filter((r) => !r.doc).map((r) => `${r.method} ${r.path}`);
    t.diagnostic(
      `endpoints without declared schemas (listed with method and path only): ${withoutSchemas.join(', ') || 'none'}`,
    );
    for (const entry of withoutSchemas) {
      const [method, path] = entry.split(' ');
      assert.equal(
        doc.paths[path!.replace(/:([A-Za-z0-9_]+)/g, '{$1}')][method!.toLowerCase()]['x-portcullis-schemas'],
        false,
      );
    }
  });

  it('describes what every documented endpoint really answers: status and body, exercised one by one', async () => {
    const ajv = new Ajv2020.default({ strict: false, allErrors: true });
    addFormats.default(ajv);
    const schemaOf = (schema: Json): Json =>
      schema.$ref ? doc.components.schemas[String(schema.$ref).split('/').pop()!] : schema;
    const exercised = new Set<string>();
    const answers = new Map<string, any>();
    for (const exercise of EXERCISES) {
      const label = `${exercise.method} ${exercise.path}`;
      const body = typeof exercise.body === 'function' ? exercise.body(answers) : exercise.body;
      const res = await gw.admin(exercise.method, resolvePath(exercise.path, answers), body);
      assert.equal(res.status, exercise.status, `${label}: ${res.text}`);
      const found = operationFor(doc, exercise.method, exercise.path);
      assert.ok(found, `${label} is not in the document`);
      exercised.add(`${exercise.method} ${found.template}`);
      const response = responseFor(found.operation, res.status);
      assert.ok(response, `${label} answered ${res.status}, which the document does not list`);
      const schema = response.content?.['application/json']?.schema;
      if (res.status === 204) {
        assert.equal(res.text, '');
        assert.equal(response.content, undefined, `${label}: 204 documented with a body`);
      } else if (schema) {
        const validate = ajv.compile(schemaOf(schema));
        const json = res.json();
        assert.ok(
          validate(json),
          `${label} answered a body the document does not describe: ${JSON.stringify(validate.errors)}\n${res.text.slice(0, 500)}`,
        );
      } else {
        assert.ok(found.operation['x-portcullis-schemas'] === false, `${label}: a documented answer without a schema`);
      }
      if (res.status < 300) answers.set(label, res.json === undefined || res.text === '' ? undefined : res.json());
    }
    const documented = Object.entries(doc.paths as Json).flatMap(([template, item]) =>
      Object.keys(item)
        .filter((m) => METHODS.includes(m))
        .map((m) => `${m.toUpperCase()} ${template}`),
    );
    assert.deepEqual(
      documented.filter((op) => !exercised.has(op)),
      [],
      'documented endpoints without an exercise: add them to EXERCISES',
    );
  });
});
