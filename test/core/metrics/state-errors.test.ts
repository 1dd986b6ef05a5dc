import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LmdbStateStore } from '../../../core/state/lmdb-state.js';
import { countStateErrors } from '../../../core/metrics/state-errors.js';

describe('Metrics: runtime-state errors', () => {
  it('counts each operation that rejects, by operation, and passes results and errors through unchanged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-state-errors-'));
    const failures: string[] = [];
    const engine = new LmdbStateStore({ path: join(dir, 'state') });
    const state = countStateErrors(engine, (operation) => failures.push(operation));
    try {
      await state.open();
      const ns = state.namespace('probe');
      await ns.set('a', { n: 1 }, 60_000);
      assert.deepEqual(await ns.get('a'), { n: 1 });
      assert.equal(ns.name, 'probe');
      assert.deepEqual(failures, []);
      await state.close();
      await assert.rejects(ns.get('a'), { code: 'state_unavailable' });
      await assert.rejects(ns.setIfAbsent('b', 1, 1000), { code: 'state_unavailable' });
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(failures, ['get', 'setIfAbsent']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("forwards every operation of the engine's namespaces, setAll included (a wrapper listing names once dropped it)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-state-errors-'));
    const engine = new LmdbStateStore({ path: join(dir, 'state') });
    const state = countStateErrors(engine, () => undefined);
    try {
      await state.open();
      const raw = engine.namespace('probe-all');
      const ns = state.namespace('probe-all');
      const methods = (object: object): string[] => {
        const names = new Set<string>();
        for (
          let o: object | null = object;
          o && o !== Object.prototype;
          o = Object.getPrototypeOf(o) as object | null
        ) {
          for (const name of Object.getOwnPropertyNames(o))
            if (name !== 'constructor' && typeof (object as Record<string, unknown>)[name] === 'function')
              names.add(name);
        }
        return [...names].filter((name) => !name.startsWith('#')).sort();
      };
      for (const name of methods(raw))
        assert.equal(
          typeof (ns as unknown as Record<string, unknown>)[name],
          'function',
          `the wrapper forwards ${name}`,
        );
      await ns.setAll([
        { key: 'x', value: 1, ttlMs: 60_000 },
        { key: 'y', value: 2, ttlMs: 60_000 },
      ]);
      assert.deepEqual([await raw.get('x'), await raw.get('y')], [1, 2]);
      await state.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
