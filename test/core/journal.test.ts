import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LowdbStore, type LowdbStoreOptions } from '../../core/config/lowdb-store.js';
import { EntityRegistry, ROUTES } from '../../core/config/entities.js';
import { DataFileError } from '../../core/config/store.js';
import { journalFiles } from '../../core/config/journal-chain.js';
import { frameRecord } from '../../core/config/journal-file.js';

const route = (id: string, name = id) => ({
  id,
  name,
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

/** Lines of the journals beside `file` (header included). */
async function journalLines(file: string): Promise<string[]> {
  const lines: string[] = [];
  for (const path of await journalFiles(file)) lines.push(...readFileSync(path, 'utf8').split('\n').filter(Boolean));
  return lines;
}

describe('Core: embedded store journal', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const fresh = () => {
    dir = mkdtempSync(join(tmpdir(), 'journal-'));
    return join(dir, 'db.json');
  };
  const open = async (file: string, options?: LowdbStoreOptions) => {
    const store = new LowdbStore(file, new EntityRegistry(), undefined, options);
    await store.open();
    return store;
  };
  const names = (store: LowdbStore) => store.list(ROUTES).map((r) => `${r.id}=${r.name}`);

  it('writes one entity as one record appended to the journal; the data file is not rewritten', async () => {
    const file = fresh();
    const store = await open(file);
    await store.put('routes', 'first', route('first'));
    const before = statSync(file);
    const linesBefore = await journalLines(file);
    await store.put('routes', 'second', route('second'));
    const after = statSync(file);
    assert.deepEqual([after.ino, after.size, after.mtimeMs], [before.ino, before.size, before.mtimeMs]);
    const linesAfter = await journalLines(file);
    assert.equal(linesAfter.length, linesBefore.length + 1, 'one record more');
    assert.match(linesAfter.at(-1)!, /^[0-9a-f]{8} \{"op":"put","kind":"routes","id":"second",/);
  });

  it('replays puts, deletes and settings of the journal on the next open, without a clean close', async () => {
    const file = fresh();
    const store = await open(file);
    await store.put('routes', 'a', route('a'));
    await store.put('routes', 'b', route('b'));
    await store.put('routes', 'a', route('a', 'renamed'));
    assert.equal(await store.delete('routes', 'b'), true);
    await store.putSetting('answer', 42);
    const reopened = await open(file);
    assert.deepEqual(names(reopened), ['a=renamed']);
    assert.equal(reopened.getSetting('answer'), 42);
  });

  it('ignores a last record cut short at any byte (a crash during the append), and writes on after it', async () => {
    const file = fresh();
    const store = await open(file);
    await store.put('routes', 'kept', route('kept'));
    const [journal] = await journalFiles(file);
    const whole = readFileSync(journal!);
    await store.put('routes', 'torn', route('torn'));
    const withTorn = readFileSync(journal!);
    const saved = readFileSync(file);
    for (let cut = whole.length; cut < withTorn.length; cut++) {
      writeFileSync(file, saved);
      writeFileSync(journal!, withTorn.subarray(0, cut));
      const reopened = await open(file);
      assert.deepEqual(names(reopened), ['kept=kept'], `cut at byte ${cut}`);
      await reopened.put('routes', 'after', route('after'));
      assert.deepEqual(names(await open(file)), ['kept=kept', 'after=after'], `written after a cut at byte ${cut}`);
    }
    writeFileSync(file, saved);
    writeFileSync(journal!, withTorn);
    assert.deepEqual(names(await open(file)), ['kept=kept', 'torn=torn'], 'the whole record');
  });

  it('a store that only reads (an export beside a running gateway) changes no file, even on close', async () => {
    const file = fresh();
    const writer = await open(file);
    await writer.put('routes', 'a', route('a'));
    const [journal] = await journalFiles(file);
    writeFileSync(journal!, readFileSync(journal!, 'utf8') + '0000'); // an append under way
    const before = [readFileSync(file), readFileSync(journal!)];
    const reader = await open(file);
    assert.deepEqual(names(reader), ['a=a']);
    await reader.close();
    assert.deepEqual([readFileSync(file), readFileSync(journal!)], before);
  });

  it('refuses a journal damaged before its last record, and leaves both files as they were', async () => {
    const file = fresh();
    const store = await open(file);
    await store.put('routes', 'a', route('a'));
    await store.put('routes', 'b', route('b'));
    const [journal] = await journalFiles(file);
    const text = readFileSync(journal!, 'utf8');
    const damaged = text.replace('"id":"a"', '"id":"x"'); // the checksum no longer matches
    writeFileSync(journal!, damaged);
    const dataBefore = readFileSync(file);
    await assert.rejects(
      open(file),
      (error: Error) => error instanceof DataFileError && /is damaged at byte/.test(error.message),
    );
    assert.equal(readFileSync(journal!, 'utf8'), damaged);
    assert.deepEqual(readFileSync(file), dataBefore);
  });

  it('refuses a journal record that does not validate, as it refuses such an entity in the data file', async () => {
    const file = fresh();
    const store = await open(file);
    await store.put('routes', 'a', route('a'));
    const [journal] = await journalFiles(file);
    const bad = frameRecord({ op: 'put', kind: 'routes', id: 'b', entity: { id: 'b' } });
    writeFileSync(journal!, readFileSync(journal!, 'utf8') + bad);
    await assert.rejects(
      open(file),
      (error: Error) => error instanceof DataFileError && /routes\/b/.test(error.message),
    );
  });

  it('leaves no journal behind when the journal a compaction started received nothing before a clean close', async () => {
    const file = fresh();
    const store = await open(file, { compactRatio: 0.0001, compactMinBytes: 0 });
    await store.put('routes', 'r1', route('r1')); // past the threshold: a compaction starts a new journal
    await store.close();
    assert.deepEqual(await journalFiles(file), []);
    assert.deepEqual(names(await open(file)), ['r1=r1']);
  });

  it('compacts the journal into the data file past its size ratio, while writes go on; nothing is lost', async () => {
    const file = fresh();
    const options = { compactRatio: 0.1, compactMinBytes: 0 };
    const store = await open(file, options);
    const dataBefore = statSync(file);
    // Writes keep arriving while compactions run: each lands in the journal that follows.
    for (let round = 0; round < 10; round++)
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.put('routes', `r${round}-${i}`, route(`r${i}`))));
    await store.put('routes', 'last', route('last'));
    const rewritten = statSync(file);
    assert.ok(rewritten.ino !== dataBefore.ino || rewritten.size !== dataBefore.size, 'the data file was compacted');
    assert.equal(store.count('routes'), 201);
    await store.close(); // waits for the compaction under way (a second reader meanwhile would not hold the lock)
    assert.deepEqual(await journalFiles(file), [], 'a clean close folds the journal into the data file');
    const folded = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(Object.keys(folded.entities.routes).length, 201);
    assert.equal((await open(file)).count('routes'), 201);
  });

  it('loses nothing when a crash stops a compaction before or after the data file is replaced', async () => {
    const file = fresh();
    const header = (journal: string, follows: string | null) => frameRecord({ journal, follows });
    const put = (id: string) => frameRecord({ op: 'put', kind: 'routes', id, entity: route(id) });
    const dataFile = (journal: string, routes: Record<string, unknown>) =>
      JSON.stringify({ schemaVersion: 1, journal, settings: {}, entities: { routes } });
    const [j1, j2] = ['1111111111111111', '2222222222222222'];
    // The compaction started journal 2 following journal 1; writes went on to it.
    writeFileSync(`${file}.journal-${j1}`, header(j1, null) + put('a'));
    writeFileSync(`${file}.journal-${j2}`, header(j2, j1) + put('b'));
    // Crash before the new data file is in place: the old one names journal 1, followed by journal 2.
    writeFileSync(file, dataFile(j1, {}));
    assert.deepEqual(names(await open(file)), ['a=a', 'b=b']);
    assert.equal((await journalFiles(file)).length, 2, 'both journals are in the chain');
    // Crash after: the new data file (holding journal 1's changes) names journal 2; journal 1 is stale.
    writeFileSync(file, dataFile(j2, { a: route('a') }));
    const after = await open(file);
    assert.deepEqual(names(after), ['a=a', 'b=b']);
    await after.put('routes', 'c', route('c'));
    assert.deepEqual(await journalFiles(file), [`${file}.journal-${j2}`], 'the stale journal is deleted by the writer');
    assert.deepEqual(names(await open(file)), ['a=a', 'b=b', 'c=c']);
  });

  it('rewrites a data file of an earlier release once, naming its journal, and ignores journals it does not name', async () => {
    const file = fresh();
    writeFileSync(file, JSON.stringify({ schemaVersion: 1, settings: {}, entities: { routes: { a: route('a') } } }));
    const foreign = `${file}.journal-0123456789abcdef`;
    writeFileSync(
      foreign,
      frameRecord({ journal: '0123456789abcdef', follows: null }) +
        frameRecord({ op: 'delete', kind: 'routes', id: 'a' }),
    );
    const store = await open(file);
    assert.deepEqual(names(store), ['a=a'], 'a journal the data file does not name is not replayed');
    await store.put('routes', 'b', route('b'));
    assert.match(JSON.parse(readFileSync(file, 'utf8')).journal, /^[0-9a-f]{16}$/);
    assert.deepEqual(names(await open(file)), ['a=a', 'b=b']);
  });

  it('an import rewrites the data file and starts a new journal; the old one is no longer replayed', async () => {
    const file = fresh();
    const store = await open(file);
    await store.put('routes', 'before', route('before'));
    await store.replaceAll({ routes: { imported: route('imported') } });
    assert.deepEqual(await journalFiles(file), []);
    await store.put('routes', 'after', route('after'));
    assert.deepEqual(names(await open(file)), ['imported=imported', 'after=after']);
  });
});
