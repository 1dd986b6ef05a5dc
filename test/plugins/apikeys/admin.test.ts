import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, createRoute, route, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { storedText } from '../../helpers/data-file.js';

describe('Plugin: apikeys (admin)', () => {
  let gw: TestGateway;
  let upstream: Upstream;

  before(async () => {
    gw = await startGateway();
    upstream = await startUpstream(echo);
    await createRoute(gw, route('orders', upstream.url, { tags: ['shop'], plugins: [{ plugin: 'apikeys' }] }));
    await createRoute(gw, route('billing', upstream.url, { frontend: { domains: ['billing.test'] } }));
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  it('generates a URL-safe secret of at least 32 bytes, returns it once and stores only a salted hash', async () => {
    const res = await gw.admin('POST', '/api/apikeys', { clientName: 'Mobile app', authorizedEntities: ['orders'] });
    assert.equal(res.status, 201, res.text);
    const created = res.json();
    assert.match(created.clientId, /^[A-Za-z0-9_-]+$/);
    assert.match(created.clientSecret, /^[A-Za-z0-9_-]{43,}$/);
    assert.equal(created.clientSecretHash, undefined);
    const got = (await gw.admin('GET', `/api/apikeys/${created.clientId}`)).json();
    assert.equal(got.clientSecret, undefined);
    assert.equal(got.clientSecretHash, undefined);
    const onDisk = await storedText(gw.dataFile);
    assert.ok(!onDisk.includes(created.clientSecret), 'the secret is not stored in clear');
    assert.match(onDisk, /"clientSecretHash": ?"sha256\$/);
    assert.ok(!JSON.stringify(gw.logs).includes(created.clientSecret), 'the secret is never logged');
  });

  it('accepts a given client id and secret, and refuses a short secret', async () => {
    const ok = await gw.admin('POST', '/api/apikeys', {
      clientId: 'partner-1',
      clientSecret: 'a-long-enough-secret-123',
      clientName: 'Partner',
    });
    assert.equal(ok.status, 201);
    assert.equal(ok.json().clientSecret, 'a-long-enough-secret-123');
    const short = await gw.admin('POST', '/api/apikeys', {
      clientId: 'partner-2',
      clientSecret: 'short',
      clientName: 'Partner',
    });
    assert.equal(short.status, 400);
    assert.equal(short.json().details[0].path, '/clientSecret');
  });

  it('round-trips GET to PUT without losing the secret', async () => {
    const key = (await gw.admin('GET', '/api/apikeys/partner-1')).json();
    const put = await gw.admin('PUT', '/api/apikeys/partner-1', { ...key, description: 'edited' });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.json().description, 'edited');
    const res = await gw.proxy('/', {
      headers: { authorization: 'Basic ' + Buffer.from('partner-1:a-long-enough-secret-123').toString('base64') },
    });
    // the key is not authorized for `orders` but its secret still verifies: 403, not 401
    assert.equal(res.status, 403);
  });

  it('rotates the secret: the new one works, the old one no longer does', async () => {
    const created = (
      await gw.admin('POST', '/api/apikeys', { clientName: 'Rotating', authorizedEntities: ['orders'] })
    ).json();
    const basic = (secret: string) => ({
      authorization: 'Basic ' + Buffer.from(`${created.clientId}:${secret}`).toString('base64'),
    });
    assert.equal((await gw.proxy('/', { headers: basic(created.clientSecret) })).status, 200);
    const rotated = await gw.admin('POST', `/api/apikeys/${created.clientId}/rotate-secret`);
    assert.equal(rotated.status, 200);
    const next = rotated.json().clientSecret;
    assert.notEqual(next, created.clientSecret);
    assert.equal(rotated.json().version, 2);
    assert.equal((await gw.proxy('/', { headers: basic(created.clientSecret) })).status, 401);
    assert.equal((await gw.proxy('/', { headers: basic(next) })).status, 200);
    assert.equal((await gw.admin('POST', '/api/apikeys/nobody/rotate-secret')).status, 404);
  });

  it('refuses authorization for a route that does not exist, but accepts tags', async () => {
    const res = await gw.admin('POST', '/api/apikeys', { clientName: 'x', authorizedEntities: ['no-such-route'] });
    assert.equal(res.status, 400);
    assert.equal(res.json().details[0].path, '/authorizedEntities/0');
    assert.equal(
      (await gw.admin('POST', '/api/apikeys', { clientName: 'x', authorizedEntities: ['tag:anything'] })).status,
      201,
    );
  });

  it('filters the list by tag, enablement and route, with paging', async () => {
    await gw.admin('POST', '/api/apikeys', {
      clientId: 'f-tagged',
      clientName: 'f',
      tags: ['gold'],
      authorizedEntities: ['tag:shop'],
    });
    await gw.admin('POST', '/api/apikeys', {
      clientId: 'f-off',
      clientName: 'f',
      enabled: false,
      authorizedEntities: ['billing'],
    });
    const ids = async (query: string) =>
      (await gw.admin('GET', `/api/apikeys?${query}`))
        .json()
        .map((k: any) => k.clientId)
        .sort();
    assert.deepEqual(await ids('tag=gold'), ['f-tagged']);
    assert.deepEqual(await ids('enabled=false'), ['f-off']);
    assert.deepEqual(await ids('route=billing'), ['f-off']);
    assert.ok((await ids('route=orders')).includes('f-tagged'), 'authorized through tag:shop');
    const page = await gw.admin('GET', '/api/apikeys?limit=2&offset=1');
    assert.equal(page.json().length, 2);
    assert.ok(Number(page.headers['x-total-count']) >= 5);
    assert.equal((await gw.admin('GET', '/api/apikeys?route=missing')).status, 404);
    assert.ok(page.json().every((k: any) => k.clientSecretHash === undefined));
  });

  it('validates quotas, expiry and metadata by schema', async () => {
    const res = await gw.admin('POST', '/api/apikeys', {
      clientName: 'x',
      throttlingQuota: 0,
      validUntil: 'tomorrow',
      metadata: { a: 1 },
    });
    assert.equal(res.status, 400);
    const paths = res.json().details.map((d: any) => d.path);
    for (const p of ['/throttlingQuota', '/validUntil', '/metadata/a'])
      assert.ok(paths.includes(p), `${p} in ${paths}`);
  });

  it('exports hashes (never secrets) and an import restores working keys', async () => {
    const created = (
      await gw.admin('POST', '/api/apikeys', { clientId: 'exported', clientName: 'E', authorizedEntities: ['orders'] })
    ).json();
    const doc = (await gw.admin('GET', '/api/export')).json();
    const exported = doc.apikeys.find((k: any) => k.clientId === 'exported');
    assert.match(exported.clientSecretHash, /^sha256\$/);
    assert.equal(exported.clientSecret, undefined);
    const other = await startGateway();
    try {
      const res = await other.admin('POST', '/api/import', doc);
      assert.equal(res.status, 200, res.text);
      const call = await other.proxy('/', {
        headers: { authorization: 'Basic ' + Buffer.from(`exported:${created.clientSecret}`).toString('base64') },
      });
      assert.equal(call.status, 200);
    } finally {
      await other.close();
    }
  });

  it('deletes a key, which is refused at once', async () => {
    const created = (
      await gw.admin('POST', '/api/apikeys', { clientName: 'Gone', authorizedEntities: ['orders'] })
    ).json();
    const auth = {
      authorization: 'Basic ' + Buffer.from(`${created.clientId}:${created.clientSecret}`).toString('base64'),
    };
    assert.equal((await gw.proxy('/', { headers: auth })).status, 200);
    assert.equal((await gw.admin('DELETE', `/api/apikeys/${created.clientId}`)).status, 204);
    assert.equal((await gw.proxy('/', { headers: auth })).status, 401);
  });
});
