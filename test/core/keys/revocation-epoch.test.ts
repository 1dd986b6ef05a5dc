import 'reflect-metadata';
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LmdbStateStore } from '../../../core/state/lmdb-state.js';
import { RevocationEpoch } from '../../../core/keys/revocation-epoch.js';
import { eventually } from '../../helpers/wait.js';

describe('Core: revocation epoch', () => {
  const dirs: string[] = [];
  const stores: LmdbStateStore[] = [];
  after(async () => {
    for (const store of stores) await store.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  /** Two processes' views of one embedded state store (two stores on one directory). */
  async function pair(): Promise<[RevocationEpoch, RevocationEpoch, string]> {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-epoch-'));
    dirs.push(dir);
    const epochs: RevocationEpoch[] = [];
    for (let i = 0; i < 2; i++) {
      const store = new LmdbStateStore({ path: dir, pollIntervalMs: 20 });
      await store.open();
      stores.push(store);
      const epoch = new RevocationEpoch(store);
      await epoch.start();
      epochs.push(epoch);
    }
    return [epochs[0]!, epochs[1]!, dir];
  }

  it('an advance is adopted at once where it happened and heard by the other process', async () => {
    const [one, two] = await pair();
    assert.equal(one.current, '');
    await one.advance();
    assert.notEqual(one.current, '');
    await eventually(() => two.current === one.current, 'the other process to hear the advance');
  });

  it('only moves forward: an older advance heard late does not bring old cache keys back', async () => {
    const [one, two] = await pair();
    const now = Date.now();
    await one.advance(now + 1_000);
    const later = one.current;
    await eventually(() => two.current === later, 'the other process to hear the later value');
    await two.advance(now); // an earlier value (a clock behind), announced after
    assert.equal(two.current, later, 'the process that had heard the later value keeps it');
    await eventually(() => one.current === later, 'the first process to settle');
    assert.equal(one.current, later);
  });

  it('a process starting later reads the stored epoch before serving', async () => {
    const [one, , dir] = await pair();
    await one.advance();
    const store = new LmdbStateStore({ path: dir, pollIntervalMs: 20 });
    await store.open();
    stores.push(store);
    const late = new RevocationEpoch(store);
    await late.start();
    assert.equal(late.current, one.current);
  });
});
