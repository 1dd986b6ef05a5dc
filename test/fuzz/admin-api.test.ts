/**
 * Fuzz family 1: the admin API, every entity kind and the import endpoint. Properties: a client
 * mistake never gets a 5xx; every error is `{error, error_description}` JSON; every write answered
 * 2xx leaves a configuration that compiles (each enabled route compiled at its stored version, with
 * a pipeline); and the data file always starts a new gateway that serves the same routes.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { startGateway, createRoute, route, ADMIN_PASSWORD, type TestGateway } from '../helpers/gateway.js';
import { basic } from '../helpers/http.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import { FuzzClient, assertClientError, fuzzDataDir, checkProperty, compiledStateProblem, fuzzRuns, type FuzzResponse } from '../helpers/fuzz.js';
import { adminOp, randomAdminRequest, restRequest } from './admin-inputs.js';

const AUTH = basic('admin', ADMIN_PASSWORD);
/** Restart the gateway on its data file this often (and once at the end). */
const RESTART_EVERY = 2_500;
/** Bound the stored entities so the data file (rewritten whole on each write) stays small. */
const MAX_ENTITIES = 40;

describe('Fuzz: admin API (every entity kind, import)', () => {
  let upstream: Upstream;
  let gw: TestGateway;
  let client: FuzzClient;
  let exported: unknown;
  let dataDir: string;
  let writesSinceRestart = 0;

  before(async () => {
    upstream = await startUpstream(echo);
    dataDir = fuzzDataDir();
    gw = await startGateway({ dataDir, logLevel: 'warn' });
    await createRoute(gw, route('fixed', upstream.url));
    const verifier = await gw.admin('POST', '/api/jwt-verifiers', { id: 'hmac', name: 'HMAC', keys: { kind: 'hmac', secret: 'a-very-long-shared-secret-of-32-bytes!' }, algorithms: ['HS256'] });
    assert.equal(verifier.status, 201, verifier.text);
    const gateway = await gw.admin('POST', '/api/jwt-verifiers', { id: 'gateway', name: 'Gateway', keys: { kind: 'keypairs' }, algorithms: ['RS256', 'ES256'] });
    assert.equal(gateway.status, 201, gateway.text);
    exported = (await gw.admin('GET', '/api/export?includePrivateKeys=true')).json();
    client = new FuzzClient(gw.adminUrl);
  });

  after(async () => {
    await client?.close();
    await gw?.close();
    rmSync(dataDir, { recursive: true, force: true });
    await upstream?.close();
  });

  async function send(method: string, path: string, body: unknown, contentType = 'application/json'): Promise<FuzzResponse> {
    const headers: Record<string, string> = { authorization: AUTH };
    if (body !== undefined && contentType) headers['content-type'] = contentType;
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    return client.request(method, path, { headers, body: payload });
  }

  /** Close the gateway, start a new one on the same data file: it must start and serve the same routes. */
  async function restartAndCompare(): Promise<void> {
    const before = routeSummary((await gw.admin('GET', '/api/routes')).json());
    await client.close();
    await gw.close({ keepData: true });
    try {
      gw = await startGateway({ dataDir, logLevel: 'warn' });
    } catch (error) {
      throw new Error(`the gateway does not restart on its own data file: ${(error as Error).message}`);
    }
    client = new FuzzClient(gw.adminUrl);
    const afterRestart = routeSummary((await gw.admin('GET', '/api/routes')).json());
    assert.deepEqual(afterRestart, before, 'the restarted gateway serves other routes');
    const problem = compiledStateProblem(gw);
    if (problem) throw new Error(`after a restart: ${problem}`);
    const fixed = await gw.proxy('/', { host: 'api.test' });
    assert.ok(fixed.status < 500 || fixed.status === 502, `a route answers ${fixed.status} after a restart: ${fixed.text}`);
    writesSinceRestart = 0;
  }

  /** Delete entities beyond the bound (the fuzzer keeps creating some with generated ids). */
  async function prune(): Promise<void> {
    for (const kind of ['routes', 'apikeys', 'keypairs', 'jwt-verifiers']) {
      const items = gw.gateway.store.list(kind);
      if (items.length <= MAX_ENTITIES) continue;
      for (const item of items.slice(0, items.length - MAX_ENTITIES / 2)) {
        const id = String(item.id ?? item.clientId);
        if (['fixed', 'hmac', 'gateway', 'portcullis-jwt-signing'].includes(id)) continue;
        await send('DELETE', `/api/${kind}/${encodeURIComponent(id)}`, undefined);
      }
    }
  }

  async function afterResponse(method: string, what: string, res: FuzzResponse): Promise<void> {
    assertClientError(res, what);
    if (method !== 'GET' && method !== 'HEAD' && res.status >= 200 && res.status < 300) {
      const problem = compiledStateProblem(gw);
      if (problem) throw new Error(`${what} answered ${res.status}, but the configuration no longer compiles: ${problem}`);
      if (++writesSinceRestart >= RESTART_EVERY) await restartAndCompare();
    }
  }

  it('mostly-valid operations of every kind: no 5xx, RFC-shaped errors, every 2xx write compiles', async () => {
    await checkProperty('admin operations', adminOp(upstream.url, () => exported), async (o) => {
      const { method, path, body } = restRequest(o);
      const res = await send(method, path, body);
      await afterResponse(method, `${method} ${path} ${JSON.stringify(body)?.slice(0, 400)}`, res);
      if (gw.gateway.store.list('routes').length > MAX_ENTITIES || gw.gateway.store.list('apikeys').length > MAX_ENTITIES) await prune();
    }, fuzzRuns(0.8));
  });

  it('fully random requests under /api: no 5xx, RFC-shaped errors', async () => {
    await checkProperty('random admin requests', randomAdminRequest, async (r) => {
      const body = r.method === 'GET' || r.method === 'HEAD' ? undefined : r.body;
      const res = await send(r.method, r.path + r.query, body, r.contentType);
      if (r.method === 'HEAD') return void assert.ok(res.status < 500, `HEAD ${r.path}: ${res.status}`);
      await afterResponse(r.method, `${r.method} ${r.path}${r.query} (${r.contentType}) ${String(typeof body === 'string' ? body : JSON.stringify(body)).slice(0, 300)}`, res);
    }, fuzzRuns(0.2));
  });

  it('the data file left by the fuzzing starts a new gateway serving the same routes', async () => {
    await restartAndCompare();
    const health = await client.request('GET', '/health');
    assert.equal(health.status, 200);
  });
});

function routeSummary(routes: Array<{ id: string; version: number; enabled: boolean }>): string[] {
  return routes.map((r) => `${r.id}@${r.version}:${r.enabled}`).sort();
}
