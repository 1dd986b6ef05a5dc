/**
 * Which running gateway holds an embedded data file. lowdb takes no lock and a gateway keeps the
 * whole configuration in memory, writing it back whole: a file changed under a running gateway is
 * overwritten by its next write. So a gateway started from the CLI leaves `<file>.pid` (its pid and
 * admin URL) while it runs, and `portcullis import` refuses a file whose holder is alive, pointing
 * at the admin API instead. A holder killed with SIGKILL leaves the file behind; a pid that no
 * longer runs is not a holder.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';

export interface DataFileHolder {
  pid: number;
  adminUrl: string | null;
}

function pidFile(dataFile: string): string {
  return `${dataFile}.pid`;
}

/** Record this process as the data file's holder; returns the release (idempotent). */
export function holdDataFile(dataFile: string, adminUrl: string | null): () => void {
  const file = pidFile(dataFile);
  writeFileSync(file, JSON.stringify({ pid: process.pid, adminUrl } satisfies DataFileHolder) + '\n');
  let released = false;
  return () => {
    if (released) return;
    released = true;
    // Only our own record: another gateway may have started on the file since (and been refused nothing).
    if (dataFileHolder(dataFile)?.pid === process.pid) rmSync(file, { force: true });
  };
}

/** The live process holding the data file, or null (no record, an unreadable one, or a dead pid). */
export function dataFileHolder(dataFile: string): DataFileHolder | null {
  let holder: Partial<DataFileHolder>;
  try {
    holder = JSON.parse(readFileSync(pidFile(dataFile), 'utf8')) as Partial<DataFileHolder>;
  } catch {
    return null;
  }
  if (typeof holder !== 'object' || holder === null || !Number.isInteger(holder.pid) || holder.pid! <= 0) return null;
  if (!isAlive(holder.pid!)) return null;
  return { pid: holder.pid!, adminUrl: typeof holder.adminUrl === 'string' ? holder.adminUrl : null };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
