/**
 * The sealed data file: the store writes it with the fingerprint of the schemas its entities were
 * validated against and the digest of its bytes, and a start on an untouched file with today's
 * fingerprint does not validate every entity again. A changed byte or another fingerprint (a schema
 * changed, a kind added) and the file is validated as any other: a bad entity refused as before.
 */
import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { LowdbStore } from '../../core/config/lowdb-store.js';
import { DurableJsonFile } from '../../core/config/durable-json-file.js';
import { defineEntityKind, EntityRegistry, type EntityKind } from '../../core/config/entities.js';
import { DataFileError } from '../../core/config/store.js';

const THINGS = 'things';

/** A kind whose validator counts the entities it checks; `maxLength` changes its schema (and fingerprint). */
function thingKind(maxLength: number): { kind: EntityKind; checked: () => number } {
  const kind = defineEntityKind({
    name: THINGS,
    title: 'thing',
    idField: 'id',
    affectsPipelines: false,
    schema: Type.Object({ id: Type.String(), label: Type.String({ maxLength }) }),
  });
  let count = 0;
  const check = kind.validator.check.bind(kind.validator);
  const validator = { ...kind.validator, check: (value: unknown): value is never => (count++, check(value)) };
  return { kind: { ...kind, validator } as EntityKind, checked: () => count };
}

function registryWith(kind: EntityKind): EntityRegistry {
  const registry = new EntityRegistry();
  registry.register(kind);
  return registry;
}

describe('Core: sealed data file', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A data file written by a store holding three things (folded on close: sealed). */
  async function storeOfThings(file: string): Promise<void> {
    const store = new LowdbStore(file, registryWith(thingKind(10).kind));
    await store.open();
    for (const id of ['a', 'b', 'c']) await store.put(THINGS, id, { id, label: `thing ${id}` });
    await store.close();
  }

  it('reads back a sealed file, with its seal, and without it once a byte after the seal changed', async () => {
    dir = mkdtempSync(join(tmpdir(), 'seal-'));
    const path = join(dir, 'sealed.json');
    const file = new DurableJsonFile<unknown>(path);
    const data = { schemaVersion: 1, settings: {}, entities: { things: { a: { id: 'a', label: 'x'.repeat(3000) } } } };
    await file.write(data, 'fingerprint');
    const text = readFileSync(path, 'utf8');
    assert.match(text, /^\{\n "validated": "fingerprint:[0-9a-f]{64}",\n "schemaVersion": 1,/);
    const read = await file.readContent();
    assert.deepEqual(read, {
      found: true,
      data: { validated: JSON.parse(text).validated, ...data },
      seal: 'fingerprint',
    });
    writeFileSync(path, text.replace('xxxx', 'xxxy'));
    const changed = await file.readContent();
    assert.equal(changed.found && changed.seal, undefined);
    await file.write(data);
    const unsealed = await file.readContent();
    assert.deepEqual(unsealed, { found: true, data });
  });

  it('does not validate the entities of an untouched file sealed with the same schemas', async () => {
    dir = mkdtempSync(join(tmpdir(), 'seal-'));
    const file = join(dir, 'db.json');
    await storeOfThings(file);
    assert.match(readFileSync(file, 'utf8'), /^\{\n "validated": /);
    const { kind, checked } = thingKind(10);
    const reopened = new LowdbStore(file, registryWith(kind));
    await reopened.open();
    assert.equal(checked(), 0);
    assert.deepEqual(
      reopened.list(THINGS).map((thing) => thing.label),
      ['thing a', 'thing b', 'thing c'],
    );
  });

  it('validates a sealed file changed by hand, and refuses its bad entity with the usual error', async () => {
    dir = mkdtempSync(join(tmpdir(), 'seal-'));
    const file = join(dir, 'db.json');
    await storeOfThings(file);
    writeFileSync(file, readFileSync(file, 'utf8').replace('"thing b"', '"a label much too long"'));
    const { kind, checked } = thingKind(10);
    await assert.rejects(
      new LowdbStore(file, registryWith(kind)).open(),
      (error: Error) =>
        error instanceof DataFileError &&
        error.message.includes('does not validate; fix or move it away, it will not be overwritten') &&
        error.message.includes('things/b/label: Must be at most 10 characters'),
    );
    assert.equal(checked(), 3, 'every entity validated');
  });

  it('validates every entity of a file sealed with other schemas', async () => {
    dir = mkdtempSync(join(tmpdir(), 'seal-'));
    const file = join(dir, 'db.json');
    await storeOfThings(file);
    const looser = thingKind(100);
    await new LowdbStore(file, registryWith(looser.kind)).open();
    assert.equal(looser.checked(), 3);
    const stricter = thingKind(5);
    await assert.rejects(
      new LowdbStore(file, registryWith(stricter.kind)).open(),
      (error: Error) => error instanceof DataFileError && error.message.includes('things/a/label'),
    );
  });

  it('writes the file unsealed when a kind was registered after the store opened', async () => {
    dir = mkdtempSync(join(tmpdir(), 'seal-'));
    const file = join(dir, 'db.json');
    await storeOfThings(file);
    const registry = new EntityRegistry();
    const store = new LowdbStore(file, registry);
    await store.open(); // the things are loaded as a kind not installed: unvalidated
    registry.register(thingKind(10).kind);
    await store.putSetting('x', 1);
    await store.close();
    assert.doesNotMatch(readFileSync(file, 'utf8'), /"validated"/);
    const { kind, checked } = thingKind(10);
    await new LowdbStore(file, registryWith(kind)).open();
    assert.equal(checked(), 3);
  });
});
