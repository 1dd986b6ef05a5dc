/**
 * One append-only journal file beside the data file: a header line naming the journal and the one it
 * follows, then one line per change. A line is `<crc32 of the JSON, 8 hex digits> <JSON>\n`: JSON as
 * `JSON.stringify` writes it holds no raw line break, so the line is the frame, and the checksum tells
 * a record written whole from one cut short or damaged.
 *
 * Appends are fsynced before they are acknowledged. A crash can only cut the last line short (no
 * line break yet, or a checksum that does not match and nothing after it): that tail was never
 * acknowledged and is ignored, and cut off before the next append. A damaged line with whole records
 * after it is not a crash's work: the journal is refused, and the store with it.
 */
import { open, readFile, stat, type FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { DataFileError } from './store.js';
import { rejectForbiddenKeys } from './schema.js';
import type { StoredEntity } from './entities.js';

/** The first line: this journal's id (what a data file names) and the journal it continues, if any. */
export interface JournalHeader {
  readonly journal: string;
  readonly follows: string | null;
}

/** One change as the journal holds it; replaying a record sets its slot, so replaying twice is harmless. */
export type JournalRecord =
  | { op: 'put'; kind: string; id: string; entity: StoredEntity }
  | { op: 'delete'; kind: string; id: string }
  | { op: 'setting'; key: string; value: unknown };

export interface JournalContent {
  readonly header: JournalHeader;
  readonly records: JournalRecord[];
  /** Bytes up to the end of the last whole record: where the next append goes. */
  readonly validBytes: number;
  /** Bytes after them: a record a crash cut short (0 when the file ends on a whole record). */
  readonly tornBytes: number;
}

/** The framed line of one record (or of the header). */
export function frameRecord(value: JournalHeader | JournalRecord): string {
  const json = JSON.stringify(value);
  return `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
}

/** The whole journal at `path`, null when the file does not exist or holds no whole header. */
export async function readJournal(path: string): Promise<JournalContent | null> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new DataFileError(`Cannot read journal ${path}: ${(error as Error).message}`);
  }
  const records: unknown[] = [];
  let start = 0;
  for (;;) {
    const end = bytes.indexOf(10, start); // \n
    if (end === -1) break;
    const value = parseLine(bytes.subarray(start, end));
    if (value === undefined) {
      if (end + 1 < bytes.length) throw damaged(path, start);
      break; // the last line, damaged: a write cut short
    }
    records.push(value);
    start = end + 1;
  }
  if (records.length === 0) return null; // not even the header made it to disk
  const header = records.shift() as JournalHeader;
  if (typeof header.journal !== 'string') throw damaged(path, 0);
  return { header, records: records as JournalRecord[], validBytes: start, tornBytes: bytes.length - start };
}

/** The value of one line, undefined when its checksum or its JSON does not hold. */
function parseLine(line: Buffer): unknown {
  if (line.length < 10 || line[8] !== 32) return undefined;
  const json = line.subarray(9);
  if (crc32(json).toString(16).padStart(8, '0') !== line.toString('latin1', 0, 8)) return undefined;
  const text = json.toString('utf8');
  try {
    // As for the data file: only a text that can spell `__proto__` pays for the reviver.
    return text.includes('__proto__') || text.includes('\\u')
      ? JSON.parse(text, rejectForbiddenKeys)
      : JSON.parse(text);
  } catch {
    return undefined;
  }
}

function damaged(path: string, at: number): DataFileError {
  return new DataFileError(
    `Journal ${path} is damaged at byte ${at} (whole records follow, so no crash cut it); fix or move it away with its data file, neither will be overwritten`,
  );
}

/** A journal open for appending; one writer at a time (the store's write chain). */
export class JournalWriter {
  readonly path: string;
  readonly #handle: FileHandle;
  readonly #inode: number;
  #size: number;
  #hasRecords: boolean;

  private constructor(path: string, handle: FileHandle, inode: number, size: number, hasRecords: boolean) {
    this.path = path;
    this.#handle = handle;
    this.#inode = inode;
    this.#size = size;
    this.#hasRecords = hasRecords;
  }

  /** A new journal holding only its header, durable (the caller makes its directory entry durable). */
  static async create(path: string, header: JournalHeader): Promise<JournalWriter> {
    const handle = await open(path, 'w', 0o600);
    try {
      const line = Buffer.from(frameRecord(header), 'utf8');
      await handle.write(line);
      await handle.sync();
      return new JournalWriter(path, handle, (await handle.stat()).ino, line.length, false);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** An existing journal, its torn tail (if any) cut off so that the next record follows the last whole one. */
  static async reopen(path: string, { validBytes, records }: JournalContent): Promise<JournalWriter> {
    const handle = await open(path, 'r+');
    try {
      const { size, ino } = await handle.stat();
      if (size !== validBytes) {
        await handle.truncate(validBytes);
        await handle.sync();
      }
      return new JournalWriter(path, handle, ino, validBytes, records.length > 0);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  get size(): number {
    return this.#size;
  }

  /** Whether any change follows the header. */
  get hasRecords(): boolean {
    return this.#hasRecords;
  }

  /**
   * Append the records and fsync; resolves once they are durable. A failure cuts the file back to
   * where it was (so no partial record stays ahead of the next ones) and rejects. A journal that is
   * no longer the file at its path (the directory was moved or deleted) is refused: a write to it
   * would be lost.
   */
  async append(records: readonly JournalRecord[]): Promise<void> {
    const bytes = Buffer.from(records.map(frameRecord).join(''), 'utf8');
    const current = await stat(this.path);
    if (current.ino !== this.#inode) throw new Error(`Journal ${this.path} was replaced or removed`);
    try {
      for (let written = 0; written < bytes.length;)
        written += (await this.#handle.write(bytes, written, bytes.length - written, this.#size + written))
          .bytesWritten;
      await this.#handle.datasync();
    } catch (error) {
      await this.#handle.truncate(this.#size).catch(() => {});
      throw error;
    }
    this.#size += bytes.length;
    this.#hasRecords = true;
  }

  async close(): Promise<void> {
    await this.#handle.close().catch(() => {});
  }
}
