/**
 * The data file is written member by member in chunks (never one string of the whole file): the
 * text is exactly `JSON.stringify(data, null, 1)`, and it is the data as it was when the write
 * began, whatever later writes replace meanwhile.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { DurableJsonFile } from '../../../core/config/durable-json-file.js';
import { fuzzSeed } from '../../helpers/fuzz.js';

describe('Core: durable JSON file', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'durable-json-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  // Values JSON leaves out (undefined, functions) or turns into null inside arrays, and a toJSON.
  const leaf = fc.oneof(
    fc.jsonValue(),
    fc.constant(undefined),
    fc.constant(() => 1),
    fc.constant(new Date(0)),
    fc.array(fc.constant(undefined), { maxLength: 2 }),
  );
  const record = <T>(value: fc.Arbitrary<T>) => fc.dictionary(fc.string(), value, { maxKeys: 5 });
  const document = fc.record({
    schemaVersion: fc.constant(1),
    settings: record(leaf),
    entities: record(fc.oneof(record(fc.oneof(record(leaf), leaf)), leaf)),
  });

  it('writes exactly the text of JSON.stringify(data, null, 1), for any document', async () => {
    const file = new DurableJsonFile<unknown>(join(dir, 'any.json'));
    await fc.assert(
      fc.asyncProperty(document, async (data) => {
        await file.write(data);
        assert.equal(readFileSync(join(dir, 'any.json'), 'utf8'), JSON.stringify(data, null, 1));
      }),
      { numRuns: 200, seed: fuzzSeed() },
    );
  });

  it('writes a file of several chunks, non-ASCII text included, that reads back equal', async () => {
    const collection: Record<string, unknown> = {};
    for (let i = 0; i < 3000; i++)
      collection[`k${i}`] = { id: `k${i}`, name: `clé ${i} — ${'x'.repeat(500)}`, list: [i, null, { deep: true }] };
    const data = { schemaVersion: 1, settings: {}, entities: { keys: collection, empty: {} } };
    const file = new DurableJsonFile<unknown>(join(dir, 'big.json'));
    await file.write(data);
    const text = readFileSync(join(dir, 'big.json'), 'utf8');
    assert.ok(text.length > 1.5 * (1 << 20), 'larger than a chunk');
    assert.equal(text, JSON.stringify(data, null, 1));
    assert.deepEqual(await file.readContent(), { found: true, data });
  });

  it('carries the entities as they were when the write began, not what a later write put meanwhile', async () => {
    const collection: Record<string, unknown> = {};
    for (let i = 0; i < 5000; i++) collection[`k${i}`] = { id: `k${i}`, filler: 'y'.repeat(400) };
    const data = { schemaVersion: 1, settings: { a: 1 }, entities: { keys: collection } };
    const expected = JSON.stringify(data, null, 1);
    const file = new DurableJsonFile<unknown>(join(dir, 'snapshot.json'));
    const writing = file.write(data);
    // What the store does on later puts and deletes: replace or remove entities, never edit them.
    collection.k4999 = { id: 'k4999', filler: 'changed' };
    delete collection.k0;
    collection.added = { id: 'added' };
    data.settings = { a: 2 };
    await writing;
    assert.equal(readFileSync(join(dir, 'snapshot.json'), 'utf8'), expected);
  });
});
