/**
 * One owner per embedded data file. lowdb takes no lock and a gateway keeps the whole
 * configuration in memory, writing it back whole: two processes on one file overwrite each
 * other's writes. So whatever opens the file from the CLI (a gateway's primary, `import`,
 * `admin-password`) first takes `<file>.pid`, before the file is read, and refuses when a live
 * process holds it; cluster workers never open the file (the primary serves them its store).
 *
 * - Taking it is atomic: the record is written whole to a private file, then hard-linked to
 *   `<file>.pid` (link fails when the name exists), so no one ever reads a half-written record.
 * - A holder is alive when its pid runs *and* (where /proc tells) started when the record says: a
 *   pid recycled after a SIGKILL (a container's pid 1 restarted) is not the holder.
 * - A dead holder's record is taken over under a marker named after that record's content
 *   (`<file>.pid.takeover-<digest>`, created exclusively): of starters racing on one stale
 *   record one replaces it, the others then find the winner alive.
 * - Only the owner removes it: the content (a random nonce) is compared first.
 */
import { createHash, randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { DataFileError } from '../core/config/store.js';

export interface DataFileHolder {
  pid: number;
  adminUrl: string | null;
}

interface HolderRecord extends DataFileHolder {
  /** The holder's start time in clock ticks since boot (/proc/<pid>/stat), null where unknown. */
  startTime: number | null;
  nonce: string;
}

/** This process holds the data file until `release` (also run on exit; idempotent). */
export interface DataFileClaim {
  /** Name the admin URL in the record, once the listener is up (for the refusals' hint). */
  setAdminUrl(adminUrl: string): void;
  release(): void;
}

/** Another live process holds the data file. */
export class DataFileInUseError extends Error {
  override name = 'DataFileInUseError';
  constructor(
    readonly dataFile: string,
    readonly holder: DataFileHolder,
  ) {
    super(
      `${dataFile} is in use by the gateway running as pid ${holder.pid}${holder.adminUrl ? ` (admin API ${holder.adminUrl})` : ''}: stop it first`,
    );
  }
}

/** A marker older than this belongs to a starter that died in the middle of a takeover. */
const ABANDONED_TAKEOVER_MS = 10_000;
const ATTEMPTS = 50;
/** The nonces of the records this process holds (its own pid in a record is otherwise a former process's). */
const held = new Set<string>();

function pidFile(dataFile: string): string {
  return `${dataFile}.pid`;
}

/**
 * Take the data file for this process, or throw DataFileInUseError naming the live holder
 * (DataFileError when the record cannot be written: a read-only or missing directory).
 */
export function claimDataFile(dataFile: string): DataFileClaim {
  try {
    return claim(dataFile);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (error instanceof DataFileInUseError || code === undefined) throw error;
    throw new DataFileError(`cannot take ${pidFile(dataFile)} (one process owns a data file): ${code}`);
  }
}

function claim(dataFile: string): DataFileClaim {
  const file = pidFile(dataFile);
  // A first start creates the data file's directory (the store would): the record goes first.
  mkdirSync(dirname(file), { recursive: true });
  const own: HolderRecord = {
    pid: process.pid,
    adminUrl: null,
    startTime: startTimeOf(process.pid),
    nonce: randomBytes(12).toString('hex'),
  };
  let content = serialize(own);
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (createWhole(file, content))
      return claimOf(
        dataFile,
        () => content,
        (next) => {
          content = next;
        },
      );
    const current = readText(file);
    if (current === null) continue; // released between our two steps: try again
    const holder = liveHolder(current);
    if (holder) throw new DataFileInUseError(dataFile, holder);
    if (takeOver(file, current, content))
      return claimOf(
        dataFile,
        () => content,
        (next) => {
          content = next;
        },
      );
    sleep(10 + attempt * 5); // another starter is taking over this record
  }
  throw new Error(`could not take ${file}: other processes keep changing it`);
}

/** The live process holding the data file, or null (no record, an unreadable one, a dead holder). */
export function dataFileHolder(dataFile: string): DataFileHolder | null {
  const current = readText(pidFile(dataFile));
  return current === null ? null : liveHolder(current);
}

function claimOf(dataFile: string, content: () => string, replace: (next: string) => void): DataFileClaim {
  const file = pidFile(dataFile);
  let released = false;
  const nonce = (JSON.parse(content()) as HolderRecord).nonce;
  held.add(nonce);
  const release = () => {
    if (released) return;
    released = true;
    held.delete(nonce);
    process.off('exit', release);
    // Only our own record: a record of someone else is theirs to remove.
    if (readText(file) === content()) rmSync(file, { force: true });
  };
  process.once('exit', release);
  return {
    setAdminUrl(adminUrl) {
      const record = { ...(JSON.parse(content()) as HolderRecord), adminUrl };
      const next = serialize(record);
      const temporary = `${file}.${record.nonce}.tmp`;
      writeFileSync(temporary, next);
      // Atomic replacement of our own record: readers see the old one or the new one.
      renameSync(temporary, file);
      replace(next);
    },
    release,
  };
}

/** Create `file` holding `content` in one step; false when the name exists. */
function createWhole(file: string, content: string): boolean {
  const temporary = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(temporary, content, { flag: 'wx' });
  try {
    linkSync(temporary, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    rmSync(temporary, { force: true });
  }
}

/** Replace the stale record `stale` by ours, if no other starter does; false to look again. */
function takeOver(file: string, stale: string, content: string): boolean {
  const marker = `${file}.takeover-${createHash('sha256').update(stale).digest('hex').slice(0, 16)}`;
  if (!createWhole(marker, content)) {
    if (isAbandoned(marker)) rmSync(marker, { force: true });
    return false;
  }
  try {
    // Holding the marker of this content, no one else replaces it; it may have been released.
    if (readText(file) !== stale) return false;
    const temporary = `${file}.${process.pid}.takeover.tmp`;
    writeFileSync(temporary, content);
    renameSync(temporary, file);
    return true;
  } finally {
    rmSync(marker, { force: true });
  }
}

function isAbandoned(marker: string): boolean {
  try {
    return Date.now() - statSync(marker).mtimeMs > ABANDONED_TAKEOVER_MS;
  } catch {
    return false;
  }
}

function liveHolder(content: string): DataFileHolder | null {
  let record: Partial<HolderRecord>;
  try {
    record = JSON.parse(content) as Partial<HolderRecord>;
  } catch {
    return null;
  }
  if (typeof record !== 'object' || record === null || !Number.isInteger(record.pid) || record.pid! <= 0) return null;
  const pid = record.pid!;
  // Our own pid in a record we did not write: a former process of the same number (a container's pid 1).
  if (pid === process.pid && !held.has(String(record.nonce))) return null;
  if (pid !== process.pid && !isAlive(pid)) return null;
  if (typeof record.startTime === 'number') {
    const startTime = startTimeOf(pid);
    if (startTime !== null && startTime !== record.startTime) return null;
  }
  return { pid, adminUrl: typeof record.adminUrl === 'string' ? record.adminUrl : null };
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

/** A process's start time in clock ticks since boot (Linux), null elsewhere or when it is gone. */
function startTimeOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const startTime = Number(fields[19]);
    return Number.isFinite(startTime) ? startTime : null;
  } catch {
    return null;
  }
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

function serialize(record: HolderRecord): string {
  return JSON.stringify(record) + '\n';
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
