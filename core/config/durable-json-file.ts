/**
 * A lowdb adapter that writes like a database would: to a temporary file that is fsynced, then
 * renamed over the data file, then the directory fsynced; a crash leaves the old or the new file,
 * never half of one. Reading refuses anything that is not JSON instead of starting empty.
 */
import { open, readFile, rename, mkdir, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import type { Adapter } from 'lowdb';
import { DataFileError } from './store.js';
import { rejectForbiddenKeys } from './schema.js';

/** What a read found: nothing at all (first start), or the parsed document, whatever it holds. */
export type DataFileContent = { found: false } | { found: true; data: unknown };

export class DurableJsonFile<T> implements Adapter<T> {
  readonly #file: string;
  readonly #tmp: string;

  constructor(file: string) {
    this.#file = file;
    this.#tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  }

  /** The lowdb contract; prefer `readContent`, which tells a missing file from a file holding `null`. */
  async read(): Promise<T | null> {
    const content = await this.readContent();
    return content.found ? (content.data as T) : null;
  }

  /**
   * Only a missing file (ENOENT) is reported as not found; any other failure to read or parse is a
   * DataFileError, so that a file we cannot understand is never mistaken for a first start.
   */
  async readContent(): Promise<DataFileContent> {
    let text: string;
    try {
      text = await readFile(this.#file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { found: false };
      throw new DataFileError(`Cannot read data file ${this.#file}: ${(error as Error).message}`);
    }
    try {
      return { found: true, data: JSON.parse(text, rejectForbiddenKeys) };
    } catch (error) {
      throw new DataFileError(`Data file ${this.#file} is not valid JSON (${(error as Error).message}); fix or move it away, it will not be overwritten`);
    }
  }

  async write(data: T): Promise<void> {
    const text = JSON.stringify(data, null, 1);
    await mkdir(dirname(this.#file), { recursive: true });
    const handle = await open(this.#tmp, 'w', 0o600);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } catch (error) {
      await handle.close();
      await unlink(this.#tmp).catch(() => {});
      throw error;
    }
    await handle.close();
    await rename(this.#tmp, this.#file);
    await syncDirectory(dirname(this.#file));
  }
}

async function syncDirectory(dir: string): Promise<void> {
  // Makes the rename itself durable; some platforms cannot open a directory, which is harmless.
  try {
    const handle = await open(dir, 'r');
    try { await handle.sync(); } finally { await handle.close(); }
  } catch { /* not supported here */ }
}
