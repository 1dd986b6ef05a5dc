/**
 * A child process for the crash test: opens the embedded stores in the directory given as the
 * first argument and revokes `jti-<n>` tokens through a RevocationList, 8 at a time, printing
 * `ack <n>` once each revocation resolved (durable), until it is killed or has done 1 000.
 */
import 'reflect-metadata';
import { join } from 'node:path';
import { EntityRegistry } from '../../core/config/entities.js';
import { LowdbStore } from '../../core/config/lowdb-store.js';
import { LmdbStateStore } from '../../core/state/lmdb-state.js';
import { RevocationList } from '../../core/keys/revocations.js';

const dir = process.argv[2];
// `node --test dist/test/` loads every file of the folder: without a directory, nothing to do.
if (dir !== undefined) await revokeUntilKilled(dir);

async function revokeUntilKilled(dir: string): Promise<void> {
  const config = new LowdbStore(join(dir, 'data.json'), new EntityRegistry());
  const state = new LmdbStateStore({ path: join(dir, 'state') });
  await config.open();
  await state.open();
  const revocations = new RevocationList(config, state);
  await revocations.start();
  const exp = Math.floor(Date.now() / 1000) + 3600;
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < 1000) {
        const n = next++;
        await revocations.revoke(`jti-${n}`, 'crash-client', exp);
        process.stdout.write(`ack ${n}\n`);
      }
    }),
  );
  process.stdout.write('done\n');
}
