/**
 * Fuzz family 1: the admin API, every entity kind and the import endpoint. Properties: a client
 * mistake never gets a 5xx; every error is `{error, error_description}` JSON; every write answered
 * 2xx leaves a configuration that compiles (each enabled route compiled at its stored version, with
 * a pipeline); and the data file always starts a new gateway that serves the same routes.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startGateway, createRoute, route, ADMIN_PASSWORD, type TestGateway } from '../helpers/gateway.js';
import { basic, send as httpSend } from '../helpers/http.js';
import { startGatewayProcess } from '../helpers/gateway-process.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import {
  FuzzClient,
  assertClientError,
  fuzzDataDir,
  checkProperty,
  compiledStateProblem,
  fuzzRuns,
  type FuzzResponse,
} from '../helpers/fuzz.js';
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
    const verifier = await gw.admin('POST', '/api/jwt-verifiers', {
      id: 'hmac',
      name: 'HMAC',
      keys: { kind: 'hmac', secret: 'a-very-long-shared-secret-of-32-bytes!' },
      algorithms: ['HS256'],
    });
    assert.equal(verifier.status, 201, verifier.text);
    const gateway = await gw.admin('POST', '/api/jwt-verifiers', {
      id: 'gateway',
      name: 'Gateway',
      keys: { kind: 'keypairs' },
      algorithms: ['RS256', 'ES256'],
    });
    assert.equal(gateway.status, 201, gateway.text);
    exported = (await gw.admin('GET', '/api/export?includePrivateKeys=true')).json();
    client = new FuzzClient(gw.adminUrl);
  });

  after(async () => {
    await client?.close().catch(() => {});
    await gw?.close();
    rmSync(dataDir, { recursive: true, force: true });
    await upstream?.close();
  });

  async function send(
    method: string,
    path: string,
    body: unknown,
    contentType = 'application/json',
  ): Promise<FuzzResponse> {
    const headers: Record<string, string> = { authorization: AUTH };
    if (body !== undefined && contentType) headers['content-type'] = contentType;
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    return client.request(method, path, { headers, body: payload });
  }

  /**
   * Start a new gateway process on the data file (a copy while the fuzzing goes on; the file itself
   * once this gateway is closed): it must start and serve the same routes, none of them broken.
   */
  async function restartAndCompare(final = false): Promise<void> {
    const expected = routeSummary((await gw.admin('GET', '/api/routes')).json());
    let file = gw.dataFile;
    if (final) {
      await client.close();
      await gw.close();
    } else {
      file = join(dataDir, 'restart-copy.json');
      copyFileSync(gw.dataFile, file);
    }
    const restarted = await startGatewayProcess(file);
    try {
      const res = await httpSend(`${restarted.adminUrl}/api/routes`, { headers: { authorization: AUTH } });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(routeSummary(res.json()), expected, 'the restarted gateway serves other routes');
      for (const r of res.json() as Array<{ id: string; enabled: boolean; frontend: { domains: string[] } }>) {
        if (!r.enabled) continue;
        const [host, ...prefix] = r.frontend.domains[0]!.replace(/^\*\.?/, 'any.')
          .replace(/^any\.$/, 'any.test')
          .split('/');
        const answer = await httpSend(`${restarted.proxyUrl}/${prefix.join('/')}`, { headers: { host: host! } });
        assert.ok(
          answer.status !== 500 && answer.status !== 503,
          `route ${r.id} answers ${answer.status} after a restart: ${answer.text}`,
        );
      }
    } finally {
      await restarted.stop();
    }
    writesSinceRestart = 0;
  }

  /** Delete entities beyond the bound (the fuzzer keeps creating some with generated ids). */
  async function prune(): Promise<void> {
    // Requests before their profiles and keys, profiles before their routes: referrers go first.
    for (const kind of [
      'access-requests',
      'authorization-profiles',
      'routes',
      'apikeys',
      'keypairs',
      'jwt-verifiers',
    ]) {
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
      if (problem)
        throw new Error(`${what} answered ${res.status}, but the configuration no longer compiles: ${problem}`);
      if (++writesSinceRestart >= RESTART_EVERY) await restartAndCompare();
    }
  }

  it('mostly-valid operations of every kind: no 5xx, RFC-shaped errors, every 2xx write compiles', async () => {
    await checkProperty(
      'admin operations',
      adminOp(upstream.url, () => exported),
      async (o) => {
        const { method, path, body } = restRequest(o);
        const res = await send(method, path, body);
        await afterResponse(method, `${method} ${path} ${JSON.stringify(body)?.slice(0, 400)}`, res);
        if (['routes', 'apikeys', 'access-requests'].some((kind) => gw.gateway.store.list(kind).length > MAX_ENTITIES))
          await prune();
      },
      fuzzRuns(0.8),
    );
  });

  it('fully random requests under /api: no 5xx, RFC-shaped errors', async () => {
    await checkProperty(
      'random admin requests',
      randomAdminRequest,
      async (r) => {
        const body = r.method === 'GET' || r.method === 'HEAD' ? undefined : r.body;
        const res = await send(r.method, r.path + r.query, body, r.contentType);
        if (r.method === 'HEAD') return void assert.ok(res.status < 500, `HEAD ${r.path}: ${res.status}`);
        await afterResponse(
          r.method,
          `${r.method} ${r.path}${r.query} (${r.contentType}) ${String(typeof body === 'string' ? body : JSON.stringify(body)).slice(0, 300)}`,
          res,
        );
      },
      fuzzRuns(0.2),
    );
  });

  it('the data file left by the fuzzing starts a new gateway serving the same routes', async () => {
    await restartAndCompare(true);
  });
});

function routeSummary(routes: Array<{ id: string; version: number; enabled: boolean }>): string[] {
  return routes.map((r) => `${r.id}@${r.version}:${r.enabled}`).sort();
}
