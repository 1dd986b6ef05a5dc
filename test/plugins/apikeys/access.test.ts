import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway, createRoute, route, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { hashSecret } from '../../../plugins/apikeys/entity.js';

const basic = (id: string, secret: string) => ({
  authorization: 'Basic ' + Buffer.from(`${id}:${secret}`).toString('base64'),
});
const SECRET = 'the-right-secret-0123456789';

describe('Plugin: apikeys (access)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  const key = (clientId: string, extra: Record<string, unknown> = {}) =>
    gw.admin('POST', '/api/apikeys', {
      clientId,
      clientSecret: SECRET,
      clientName: `Client ${clientId}`,
      authorizedEntities: ['protected'],
      scopes: ['read', 'write'],
      ...extra,
    });

  before(async () => {
    gw = await startGateway();
    upstream = await startUpstream(echo);
    await createRoute(gw, route('protected', upstream.url, { plugins: [{ plugin: 'apikeys' }], tags: ['team-a'] }));
    await createRoute(
      gw,
      route('tagged', upstream.url, {
        frontend: { domains: ['tagged.test'] },
        tags: ['team-a'],
        plugins: [{ plugin: 'apikeys' }],
      }),
    );
    await createRoute(
      gw,
      route('optional', upstream.url, {
        frontend: { domains: ['optional.test'] },
        plugins: [{ plugin: 'apikeys', config: { mandatory: false, validate: false } }],
      }),
    );
    await createRoute(
      gw,
      route('hidden', upstream.url, {
        frontend: { domains: ['hidden.test'] },
        plugins: [
          { plugin: 'apikeys', config: { hideCredentials: true, validate: false, consumerHeaders: { name: 'X-Who' } } },
        ],
      }),
    );
    await createRoute(
      gw,
      route('idonly', upstream.url, {
        frontend: { domains: ['idonly.test'] },
        plugins: [
          {
            plugin: 'apikeys',
            config: {
              validate: false,
              extractors: {
                basic: { enabled: false },
                customHeaders: { enabled: false },
                clientId: { enabled: true, header: 'X-Client' },
              },
            },
          },
        ],
      }),
    );
    await createRoute(
      gw,
      route('other', upstream.url, { frontend: { domains: ['other.test'] }, plugins: [{ plugin: 'apikeys' }] }),
    );
    for (const [id, extra] of Object.entries({
      good: {},
      disabled: { enabled: false },
      expired: { validUntil: '2020-01-01T00:00:00Z' },
      future: { validUntil: '2999-01-01T00:00:00Z' },
      teamA: { authorizedEntities: ['tag:team-a'] },
      throttled: { throttlingQuota: 2 },
      daily: { dailyQuota: 3 },
      public: { allowClientIdOnly: true },
      secretOnly: {},
    }))
      assert.equal((await key(id, extra)).status, 201);
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  it('refuses a request without credentials: 401 JSON with a challenge per enabled extractor', async () => {
    const res = await gw.proxy('/');
    assert.equal(res.status, 401);
    assert.deepEqual(res.json(), { error: 'unauthorized', error_description: 'No API key provided' });
    const challenge = String(res.headers['www-authenticate']);
    assert.match(challenge, /^Basic realm="portcullis"/);
    assert.match(
      challenge,
      /ApiKey realm="portcullis", id_header="Portcullis-Client-Id", secret_header="Portcullis-Client-Secret"/,
    );
  });

  it('accepts Basic credentials and sends consumer headers upstream', async () => {
    const res = await gw.proxy('/orders', { headers: basic('good', SECRET) });
    assert.equal(res.status, 200);
    const headers = res.json().headers;
    assert.equal(headers['x-consumer-client-id'], 'good');
    assert.equal(headers['x-consumer-name'], 'Client good');
    assert.equal(headers['x-consumer-scopes'], 'read write');
    assert.ok(headers.authorization, 'credentials forwarded when hideCredentials is off');
  });

  it('accepts the id/secret headers', async () => {
    const res = await gw.proxy('/', {
      headers: { 'portcullis-client-id': 'good', 'portcullis-client-secret': SECRET },
    });
    assert.equal(res.status, 200);
    assert.equal(res.json().headers['x-consumer-client-id'], 'good');
  });

  it('gives the same 401 for a wrong secret, an unknown, disabled or expired key', async () => {
    const answers = [];
    const attempts: Array<Record<string, string>> = [
      basic('good', 'wrong-secret'),
      basic('nobody', SECRET),
      basic('disabled', SECRET),
      basic('expired', SECRET),
      { 'portcullis-client-id': 'good', 'portcullis-client-secret': 'wrong' },
      { 'portcullis-client-id': 'good' },
      { authorization: 'Basic bm9jb2xvbg==' },
    ];
    for (const headers of attempts) {
      const res = await gw.proxy('/', { headers });
      assert.equal(res.status, 401, JSON.stringify(headers));
      assert.ok(res.headers['www-authenticate']);
      answers.push(res.text);
    }
    assert.equal(new Set(answers).size, 1, 'the answers do not reveal which check failed');
    assert.deepEqual(JSON.parse(answers[0]!), { error: 'unauthorized', error_description: 'Invalid API key' });
  });

  it('accepts a key whose expiry is in the future', async () => {
    assert.equal((await gw.proxy('/', { headers: basic('future', SECRET) })).status, 200);
  });

  it('answers 403 for a valid key not authorized for the route', async () => {
    const res = await gw.proxy('/', { host: 'other.test', headers: basic('good', SECRET) });
    assert.equal(res.status, 403);
    assert.deepEqual(res.json(), {
      error: 'forbidden',
      error_description: 'This API key is not authorized for this route',
    });
  });

  it('authorizes by route tag', async () => {
    assert.equal((await gw.proxy('/', { host: 'tagged.test', headers: basic('teamA', SECRET) })).status, 200);
    assert.equal((await gw.proxy('/', { host: 'other.test', headers: basic('teamA', SECRET) })).status, 403);
  });

  it('never forwards consumer headers forged by the client', async () => {
    const res = await gw.proxy('/', {
      host: 'optional.test',
      headers: { 'x-consumer-client-id': 'admin', 'x-consumer-name': 'Admin', 'x-consumer-scopes': 'everything' },
    });
    assert.equal(res.status, 200);
    const headers = res.json().headers;
    assert.equal(headers['x-consumer-client-id'], undefined);
    assert.equal(headers['x-consumer-name'], undefined);
    assert.equal(headers['x-consumer-scopes'], undefined);
    const forged = await gw.proxy('/', { headers: { ...basic('good', SECRET), 'x-consumer-client-id': 'admin' } });
    assert.equal(forged.json().headers['x-consumer-client-id'], 'good');
  });

  it('lets requests without credentials through when not mandatory, but still refuses a wrong one', async () => {
    assert.equal((await gw.proxy('/', { host: 'optional.test' })).status, 200);
    assert.equal((await gw.proxy('/', { host: 'optional.test', headers: basic('good', 'wrong-secret') })).status, 401);
    assert.equal(
      (await gw.proxy('/', { host: 'optional.test', headers: basic('good', SECRET) })).json().headers[
        'x-consumer-client-id'
      ],
      'good',
    );
  });

  it('hides the credential from the upstream and uses configured consumer header names', async () => {
    const viaBasic = (await gw.proxy('/', { host: 'hidden.test', headers: basic('good', SECRET) })).json().headers;
    assert.equal(viaBasic.authorization, undefined);
    assert.equal(viaBasic['x-who'], 'Client good');
    const viaHeaders = (
      await gw.proxy('/', {
        host: 'hidden.test',
        headers: { 'portcullis-client-id': 'good', 'portcullis-client-secret': SECRET },
      })
    ).json().headers;
    assert.equal(viaHeaders['portcullis-client-id'], undefined);
    assert.equal(viaHeaders['portcullis-client-secret'], undefined);
  });

  it('accepts the client id alone only for keys that allow it', async () => {
    assert.equal((await gw.proxy('/', { host: 'idonly.test', headers: { 'x-client': 'public' } })).status, 200);
    assert.equal((await gw.proxy('/', { host: 'idonly.test', headers: { 'x-client': 'good' } })).status, 401);
    assert.equal(
      (await gw.proxy('/', { host: 'idonly.test', headers: basic('good', SECRET) })).status,
      401,
      'basic disabled on this route',
    );
  });

  it('throttles per second with 429, Retry-After and rate-limit headers', async () => {
    // align to the start of a second so the window does not roll over mid-test
    await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20));
    const first = await gw.proxy('/', { headers: basic('throttled', SECRET) });
    assert.equal(first.status, 200);
    assert.equal(first.headers['x-ratelimit-limit'], '2');
    assert.equal(first.headers['x-ratelimit-remaining'], '1');
    assert.equal(first.headers['ratelimit-limit'], '2');
    assert.equal(first.headers['ratelimit-remaining'], '1');
    assert.equal(first.headers['ratelimit-reset'], '1');
    assert.equal((await gw.proxy('/', { headers: basic('throttled', SECRET) })).headers['x-ratelimit-remaining'], '0');
    const refused = await gw.proxy('/', { headers: basic('throttled', SECRET) });
    assert.equal(refused.status, 429);
    assert.equal(refused.json().error, 'too_many_requests');
    assert.equal(refused.headers['retry-after'], '1');
    assert.equal(refused.headers['x-ratelimit-remaining'], '0');
    assert.equal(refused.headers['ratelimit-remaining'], '0');
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(
      (await gw.proxy('/', { headers: basic('throttled', SECRET) })).status,
      200,
      'the next second has room again',
    );
  });

  it('enforces the daily quota, and does not count refused calls', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await gw.proxy('/', { headers: basic('daily', SECRET) })).status, 200);
    const refused = await gw.proxy('/', { headers: basic('daily', SECRET) });
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers['retry-after']) > 0);
    assert.ok(Number(refused.headers['retry-after']) <= 86_400);
    assert.equal((await gw.proxy('/', { headers: basic('daily', 'wrong-secret') })).status, 401);
  });

  it('sees a key disabled through the admin API on the very next request', async () => {
    assert.equal((await gw.proxy('/', { headers: basic('secretOnly', SECRET) })).status, 200);
    const current = (await gw.admin('GET', '/api/apikeys/secretOnly')).json();
    assert.equal((await gw.admin('PUT', '/api/apikeys/secretOnly', { ...current, enabled: false })).status, 200);
    assert.equal((await gw.proxy('/', { headers: basic('secretOnly', SECRET) })).status, 401);
  });

  it('refuses the old secret and accepts the new one on the next request after a secret change', async () => {
    assert.equal((await key('rotating')).status, 201);
    assert.equal((await gw.proxy('/', { headers: basic('rotating', SECRET) })).status, 200);
    const current = (await gw.admin('GET', '/api/apikeys/rotating')).json();
    const next = 'a-brand-new-secret-9876543210';
    assert.equal((await gw.admin('PUT', '/api/apikeys/rotating', { ...current, clientSecret: next })).status, 200);
    assert.equal((await gw.proxy('/', { headers: basic('rotating', SECRET) })).status, 401);
    assert.equal((await gw.proxy('/', { headers: basic('rotating', next) })).status, 200);
  });

  it('keeps the authorizations of keys that share them when one of them changes', async () => {
    assert.equal((await key('sharedA')).status, 201);
    assert.equal((await key('sharedB')).status, 201);
    const current = (await gw.admin('GET', '/api/apikeys/sharedA')).json();
    assert.equal(
      (await gw.admin('PUT', '/api/apikeys/sharedA', { ...current, authorizedEntities: ['other'], scopes: ['admin'] }))
        .status,
      200,
    );
    assert.equal((await gw.proxy('/', { headers: basic('sharedA', SECRET) })).status, 403);
    const b = await gw.proxy('/', { headers: basic('sharedB', SECRET) });
    assert.equal(b.status, 200);
    assert.equal(b.json().headers['x-consumer-scopes'], 'read write');
    const a = await gw.proxy('/', { headers: { ...basic('sharedA', SECRET), host: 'other.test' } });
    assert.equal(a.status, 200);
    assert.equal(a.json().headers['x-consumer-scopes'], 'admin');
  });

  it('records the consumer in the access log, never the secret', async () => {
    await gw.proxy('/', { headers: { ...basic('good', SECRET), 'x-request-id': 'apikey-log' } });
    const line = gw.logs.find((l) => l.requestId === 'apikey-log');
    assert.equal(line.consumer, 'good');
    assert.ok(!JSON.stringify(gw.logs).includes(SECRET));
  });
});

describe('Plugin: apikeys (100 000 keys)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let dir: string;

  before(async () => {
    upstream = await startUpstream(echo);
    dir = mkdtempSync(join(tmpdir(), 'portcullis-100k-'));
    const now = new Date().toISOString();
    const hash = hashSecret(SECRET);
    const apikeys: Record<string, unknown> = {};
    for (let i = 0; i < 100_000; i++) {
      const clientId = `key-${i}`;
      apikeys[clientId] = {
        clientId,
        clientSecretHash: hash,
        clientName: `Client ${i}`,
        description: '',
        enabled: true,
        authorizedEntities: ['r'],
        scopes: [],
        allowClientIdOnly: false,
        metadata: {},
        tags: [],
        version: 1,
        createdAt: now,
        updatedAt: now,
      };
    }
    const routeEntity: Record<string, unknown> = {
      ...route('r', upstream.url, {
        plugins: [{ plugin: 'apikeys', enabled: true, include: [], exclude: [], config: {} }],
      }),
      description: '',
      enabled: true,
      tags: [],
      version: 1,
    };
    routeEntity.frontend = {
      domains: ['api.test'],
      methods: [],
      exact: false,
      stripPath: true,
      headers: {},
      query: {},
    };
    routeEntity.backend = {
      targets: [{ url: upstream.url, weight: 1 }],
      rewriteHost: true,
      timeouts: { connectMs: 5000, headersMs: 30000, bodyMs: 60000 },
    };
    writeFileSync(
      join(dir, 'portcullis.json'),
      JSON.stringify({ schemaVersion: 1, settings: {}, entities: { apikeys, routes: { r: routeEntity } } }),
    );
    gw = await startGateway({ dataDir: dir });
  });
  after(async () => {
    await gw.close();
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads them at start-up and finds any of them', async () => {
    assert.equal(Number((await gw.admin('GET', '/api/apikeys?limit=1')).headers['x-total-count']), 100_000);
    for (const i of [0, 54_321, 99_999]) {
      const res = await gw.proxy('/', { headers: basic(`key-${i}`, SECRET) });
      assert.equal(res.status, 200);
      assert.equal(res.json().headers['x-consumer-client-id'], `key-${i}`);
    }
    assert.equal((await gw.proxy('/', { headers: basic('key-100000', SECRET) })).status, 401);
  });
});
