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
});
