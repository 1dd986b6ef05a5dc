import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LowdbStore } from '../../core/config/lowdb-store.js';
import { EntityRegistry, ROUTES } from '../../core/config/entities.js';
import { DataFileError } from '../../core/config/store.js';
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

describe('Core: data file', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('a file that is not a store is refused and never overwritten (only a missing file is a first start)', () => {
    const variants: Array<[string, string]> = [
      ['null', 'null'],
      ['an array', '[]'],
      ['a number', '42'],
      ['a string', '"x"'],
      ['true', 'true'],
      ['an object without schemaVersion', '{}'],
      ['a store whose entities is an array', '{"schemaVersion":1,"settings":{},"entities":[]}'],
      ['a store whose settings is null', '{"schemaVersion":1,"settings":null,"entities":{}}'],
      ['a store whose collection is an array', '{"schemaVersion":1,"settings":{},"entities":{"routes":[]}}'],
      ['a store with a __proto__ key', '{"schemaVersion":1,"settings":{},"entities":{"__proto__":{"routes":{}}}}'],
      [
        'a store with a __proto__ key deep in an entity of a kind not installed',
        '{"schemaVersion":1,"settings":{},"entities":{"other-kind":{"r":{"frontend":{"__proto__":{"x":1}}}}}}',
      ],
      // Read without a reviver when the text cannot spell the key: an escape can, so it is checked.
      [
        'a store with a __proto__ key spelled with \\u escapes',
        '{"schemaVersion":1,"settings":{},"entities":{"other-kind":{"r":{"\\u005f_pro\\u0074o__":{"x":1}}}}}',
      ],
      ['an empty file', ''],
    ];
    for (const [what, content] of variants) {
      it(`refuses ${what}`, async () => {
        dir = mkdtempSync(join(tmpdir(), 'data-file-'));
        const file = join(dir, 'db.json');
        writeFileSync(file, content);
        const store = new LowdbStore(file, new EntityRegistry());
        await assert.rejects(
          store.open(),
          (error: Error) => error instanceof DataFileError && /will not be overwritten/.test(error.message),
        );
        assert.equal(readFileSync(file, 'utf8'), content, 'the file is untouched');
      });
    }
  });

  it('creates the file only when it does not exist', async () => {
    dir = mkdtempSync(join(tmpdir(), 'data-file-'));
    const file = join(dir, 'db.json');
    assert.equal(existsSync(file), false);
    await new LowdbStore(file, new EntityRegistry()).open();
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).schemaVersion, 1);
  });

  it('keeps entities whose ids are Object.prototype names apart from the prototype', async () => {
    dir = mkdtempSync(join(tmpdir(), 'data-file-'));
    const file = join(dir, 'db.json');
    const store = new LowdbStore(file, new EntityRegistry());
    await store.open();
    assert.equal(store.get(ROUTES, 'constructor'), undefined);
    assert.equal(store.get('routes', 'toString'), undefined);
    assert.equal(store.get('routes', 'hasOwnProperty'), undefined);
    assert.equal(await store.delete('routes', 'constructor'), false);
    await store.put('routes', 'constructor', route('constructor'));
    assert.equal(store.get(ROUTES, 'constructor')?.name, 'constructor');
    assert.equal(store.count('routes'), 1);
    const reopened = new LowdbStore(file, new EntityRegistry());
    await reopened.open();
    assert.equal(reopened.get(ROUTES, 'constructor')?.name, 'constructor');
    assert.equal(reopened.get(ROUTES, 'toString'), undefined);
    assert.deepEqual(
      reopened.list(ROUTES).map((r) => r.id),
      ['constructor'],
    );
  });

  it('acknowledges a durable write even when a change listener throws, and still tells the other listeners', async () => {
    dir = mkdtempSync(join(tmpdir(), 'data-file-'));
    const file = join(dir, 'db.json');
    const logged: unknown[] = [];
    const log = { error: (...args: unknown[]) => logged.push(args) } as never;
    const store = new LowdbStore(file, new EntityRegistry(), log);
    await store.open();
    const heard: string[] = [];
    store.onChange(() => {
      throw new Error('listener failure');
    });
    store.onChange((event) => {
      if (event.op === 'put') heard.push(event.id);
    });
    await store.put('routes', 'r1', route('r1'));
    assert.deepEqual(heard, ['r1']);
    assert.equal(logged.length, 1);
    assert.ok((await storedDocument(file)).entities.routes!.r1);
  });

  it('loads equal small lists and maps of entities as one frozen value, which a later write replaces, never edits', async () => {
    dir = mkdtempSync(join(tmpdir(), 'data-file-'));
    const file = join(dir, 'db.json');
    const tagged = (id: string) => ({ ...route(id), tags: ['shop', 'eu'] });
    writeFileSync(
      file,
      JSON.stringify({
        schemaVersion: 1,
        settings: {},
        entities: { routes: { r1: tagged('r1'), r2: tagged('r2'), r3: { ...route('r3'), tags: ['other'] } } },
      }),
    );
    const store = new LowdbStore(file, new EntityRegistry());
    await store.open();
    const [r1, r2, r3] = ['r1', 'r2', 'r3'].map((id) => store.get(ROUTES, id)!);
    assert.equal(r1!.tags, r2!.tags, 'one list for both');
    assert.ok(Object.isFrozen(r1!.tags));
    assert.deepEqual(r3!.tags, ['other']);
    assert.throws(() => (r1!.tags as string[]).push('x'), TypeError);
    await store.put('routes', 'r1', { ...r1!, tags: ['changed'] });
    assert.deepEqual(store.get(ROUTES, 'r2')!.tags, ['shop', 'eu']);
    const reopened = new LowdbStore(file, new EntityRegistry());
    await reopened.open();
    assert.deepEqual(
      reopened.list(ROUTES).map((r) => [r.id, r.tags]),
      [
        ['r1', ['changed']],
        ['r2', ['shop', 'eu']],
        ['r3', ['other']],
      ],
    );
  });
});
