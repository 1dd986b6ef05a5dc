/**
 * A gateway started on a data file holding thousands of API keys (loaded with their equal lists
 * shared): the keys authenticate, admin writes to one key take effect at once without touching the
 * keys that shared its values, and the list endpoint pages through them.
 */
import 'reflect-metadata';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { manyKeysDataFile } from '../../../bench/scenarios.js';
import { hashSecret } from '../../../plugins/apikeys/entity.js';
import { storedDocument } from '../../helpers/data-file.js';
import { journalFiles } from '../../../core/config/journal-chain.js';

/** Every line of the data file's journals. */
async function journalLines(dataFile: string): Promise<string[]> {
  const lines: string[] = [];
  for (const path of await journalFiles(dataFile))
    lines.push(...readFileSync(path, 'utf8').split('\n').filter(Boolean));
  return lines;
}

const KEYS = 3000;
const SECRET = 'many-keys-secret-0123456789';
const basic = (clientId: string, secret = SECRET) => ({
  authorization: 'Basic ' + Buffer.from(`${clientId}:${secret}`).toString('base64'),
});

describe('Plugin: apikeys (thousands of keys loaded from the data file)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let dataDir: string;
  const call = (clientId: string) => gw.proxy('/', { host: 'apikeys.bench', headers: basic(clientId) });

  before(async () => {
    upstream = await startUpstream(echo);
    dataDir = mkdtempSync(join(tmpdir(), 'portcullis-many-keys-'));
    writeFileSync(join(dataDir, 'portcullis.json'), manyKeysDataFile(KEYS, upstream.url, hashSecret(SECRET)));
    gw = await startGateway({ dataDir });
  });
  after(async () => {
    await gw.close();
    await upstream.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('authenticates keys from the file and sends their name and scopes upstream', async () => {
    const res = await call('bench-client-2999');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json().headers['x-consumer-name'], 'Bench 2999');
    assert.equal(res.json().headers['x-consumer-scopes'], 'read');
    assert.equal(
      (await gw.proxy('/', { host: 'apikeys.bench', headers: basic('bench-client-1', 'a-wrong-secret-000000') }))
        .status,
      401,
    );
  });

  it('applies a change to one key at once and leaves the keys that shared its lists as they were', async () => {
    const key = (await gw.admin('GET', '/api/apikeys/bench-client-7')).json();
    const updated = await gw.admin('PUT', '/api/apikeys/bench-client-7', {
      ...key,
      scopes: ['read', 'write'],
      metadata: { team: 'moved' },
    });
    assert.equal(updated.status, 200, updated.text);
    assert.equal((await call('bench-client-7')).json().headers['x-consumer-scopes'], 'read write');
    const neighbour = (await gw.admin('GET', '/api/apikeys/bench-client-8')).json();
    assert.deepEqual([neighbour.scopes, neighbour.authorizedEntities], [['read'], ['bench-apikeys']]);
    assert.equal((await gw.admin('GET', '/api/apikeys/bench-client-107')).json().metadata.team, 'team-7');
    assert.equal((await call('bench-client-8')).json().headers['x-consumer-scopes'], 'read');

    const disabled = await gw.admin('PUT', '/api/apikeys/bench-client-9', {
      ...(await gw.admin('GET', '/api/apikeys/bench-client-9')).json(),
      enabled: false,
    });
    assert.equal(disabled.status, 200, disabled.text);
    assert.equal((await call('bench-client-9')).status, 401);
    assert.equal((await call('bench-client-10')).status, 200);
  });

  it('refuses a deleted key and accepts a created one at once', async () => {
    assert.equal((await gw.admin('DELETE', '/api/apikeys/bench-client-11')).status, 204);
    assert.equal((await call('bench-client-11')).status, 401);
    const created = await gw.admin('POST', '/api/apikeys', {
      clientId: 'fresh-client',
      clientSecret: SECRET,
      clientName: 'Fresh',
      authorizedEntities: ['bench-apikeys'],
    });
    assert.equal(created.status, 201, created.text);
    assert.equal((await call('fresh-client')).status, 200);
  });

  it('stores an admin write of one key as one journal record, without rewriting the data file', async () => {
    const before = statSync(gw.dataFile);
    const journalBefore = await journalLines(gw.dataFile);
    const created = await gw.admin('POST', '/api/apikeys', {
      clientId: 'journaled-client',
      clientName: 'Journaled',
      authorizedEntities: ['bench-apikeys'],
    });
    assert.equal(created.status, 201, created.text);
    const after = statSync(gw.dataFile);
    assert.deepEqual([after.ino, after.size, after.mtimeMs], [before.ino, before.size, before.mtimeMs]);
    const journalAfter = await journalLines(gw.dataFile);
    assert.equal(journalAfter.length, journalBefore.length + 1);
    assert.match(journalAfter.at(-1)!, /"op":"put","kind":"apikeys","id":"journaled-client"/);
    assert.equal((await gw.admin('DELETE', '/api/apikeys/journaled-client')).status, 204); // the count the next tests expect
  });

  it('pages through the keys (limit and offset) with the total in X-Total-Count', async () => {
    const page = await gw.admin('GET', '/api/apikeys?limit=100&offset=2900');
    assert.equal(page.status, 200);
    assert.equal(page.json().length, 100);
    assert.equal(page.headers['x-total-count'], String(KEYS));
    assert.equal(page.json()[0].clientSecretHash, undefined);
    assert.equal((await gw.admin('GET', '/api/apikeys')).json().length, 1000, 'a default page, not every key');
  });

  it('keeps every key in the data file after those writes', async () => {
    const onDisk = (await storedDocument(gw.dataFile)) as unknown as {
      entities: { apikeys: Record<string, { scopes: string[] }> };
    };
    assert.equal(Object.keys(onDisk.entities.apikeys).length, KEYS);
    assert.deepEqual(onDisk.entities.apikeys['bench-client-7']!.scopes, ['read', 'write']);
    assert.deepEqual(onDisk.entities.apikeys['bench-client-8']!.scopes, ['read']);
  });
});
