import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LowdbStore } from '../../core/config/lowdb-store.js';
import { EntityRegistry } from '../../core/config/entities.js';
import { DataFileError, type ChangeEvent } from '../../core/config/store.js';
import { ConflictError } from '../../core/errors.js';
import { storedDocument } from '../helpers/data-file.js';

const route = (id: string) => ({
  id,
  name: id,
  description: '',
  enabled: true,
  tags: [],
  frontend: { domains: ['a.test'], methods: [], exact: false, stripPath: true, headers: {}, query: {} },
  backend: {
    targets: [{ url: 'http://127.0.0.1:1', weight: 1 }],
    rewriteHost: true,
    timeouts: { connectMs: 1, headersMs: 1, bodyMs: 1 },
  },
  plugins: [],
  version: 1,
});

describe('Core: lowdb store', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const open = async (file = join(dir, 'data', 'db.json')) => {
    const store = new LowdbStore(file, new EntityRegistry());
    await store.open();
    return store;
  };

  it('creates the data file with its schema version on first open', async () => {
    dir = mkdtempSync(join(tmpdir(), 'store-'));
    await open();
    const data = JSON.parse(readFileSync(join(dir, 'data', 'db.json'), 'utf8'));
    assert.equal(data.schemaVersion, 1);
    assert.deepEqual(data.entities, {});
  });

  it('groups concurrent writes, acknowledges each once on disk, then reports the changes', async () => {
    dir = mkdtempSync(join(tmpdir(), 'store-'));
    const store = await open();
    const events: ChangeEvent[] = [];
    store.onChange((e) => events.push(e));
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.put('routes', `r${i}`, route(`r${i}`))));
    const onDisk = await storedDocument(join(dir, 'data', 'db.json'));
    assert.equal(Object.keys(onDisk.entities.routes).length, 50);
    assert.equal(events.length, 50);
    assert.equal(store.count('routes'), 50);
    assert.deepEqual(
      readdirSync(join(dir, 'data')).filter((name) => name.endsWith('.tmp')),
      [],
      'no temporary file left behind',
    );
    assert.equal(await store.delete('routes', 'r0'), true);
    assert.equal(await store.delete('routes', 'r0'), false);
    const reopened = await open();
    assert.equal(reopened.count('routes'), 49);
  });

  it('refuses a write based on a version it does not hold (compare-and-set), writing nothing', async () => {
    dir = mkdtempSync(join(tmpdir(), 'store-'));
    const store = await open();
    await store.put('routes', 'r', route('r'), 0);
    await assert.rejects(store.put('routes', 'r', route('r'), 0), (error: unknown) => error instanceof ConflictError);
    await assert.rejects(
      store.put('routes', 'r', { ...route('r'), name: 'stale', version: 3 }, 2),
      (error: unknown) => error instanceof ConflictError,
    );
    assert.equal((store.get('routes', 'r') as { name: string }).name, 'r');
    await store.put('routes', 'r', { ...route('r'), name: 'next', version: 2 }, 1);
    assert.equal((store.get('routes', 'r') as { name: string }).name, 'next');
  });

  it('undoes a change whose write fails, and reports nothing', async () => {
    dir = mkdtempSync(join(tmpdir(), 'store-'));
    const dataDir = join(dir, 'data');
    const store = await open(join(dataDir, 'db.json'));
    await store.put('routes', 'kept', route('kept'));
    const events: ChangeEvent[] = [];
    store.onChange((e) => events.push(e));
    rmSync(dataDir, { recursive: true });
    writeFileSync(dataDir, 'a file where the directory was');
    await assert.rejects(store.put('routes', 'lost', route('lost')));
    assert.equal(store.get('routes', 'lost'), undefined);
    assert.ok(store.get('routes', 'kept'));
    assert.deepEqual(events, []);
  });

  it('refuses a file from a newer schema version', async () => {
    dir = mkdtempSync(join(tmpdir(), 'store-'));
    const file = join(dir, 'db.json');
    writeFileSync(file, JSON.stringify({ schemaVersion: 99, entities: {} }));
    await assert.rejects(
      open(file),
      (error: Error) => error instanceof DataFileError && /schemaVersion 99/.test(error.message),
    );
  });
});
