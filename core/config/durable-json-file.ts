/**
 * A lowdb adapter that writes like a database would: to a temporary file that is fsynced, then
 * renamed over the data file, then the directory fsynced; a crash leaves the old or the new file,
 * never half of one. Reading refuses anything that is not JSON instead of starting empty.
 *
 * A file in the layout written here is read in 1 MiB chunks and parsed entity by entity
 * (`framed-json.ts`), never as one string of the whole file; any other text is parsed whole.
 *
 * With 100 000 entities the file holds tens of megabytes: a write takes a snapshot of the
 * containers (objects, or Maps written as objects; entities are replaced by writes, never edited, so their references are the state at
 * that instant), then serializes and writes it in chunks of about 1 MiB, yielding between them;
 * never one string and one buffer of the whole file, which on a small machine cost more in page
 * faults and garbage collection than the serialization itself.
 */
import { open, readFile, rename, mkdir, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import type { Adapter } from 'lowdb';
import { DataFileError } from './store.js';
import { rejectForbiddenKeys } from './schema.js';
import { FramedDocumentParser, NotFramed } from './framed-json.js';
import { StringDecoder } from 'node:string_decoder';

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
    let handle: FileHandle;
    try {
      handle = await open(this.#file, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { found: false };
      throw this.#unreadable(error);
    }
    let text: string;
    try {
      // The layout this adapter writes is read piece by piece; anything else is parsed whole.
      const framed = await readFramed(handle).catch((error: unknown) => {
        if (error instanceof NotFramed) return null;
        throw error;
      });
      if (framed !== null) return { found: true, data: framed };
      text = await readFile(this.#file, 'utf8');
    } catch (error) {
      throw this.#unreadable(error);
    } finally {
      await handle.close();
    }
    try {
      // The reviver costs more than the parse; only a text that names `__proto__` or uses a \u
      // escape (the only way to spell that key otherwise) can hold one, so only such a text needs it.
      const mayHoldForbiddenKey = text.includes('__proto__') || text.includes('\\u');
      return { found: true, data: mayHoldForbiddenKey ? JSON.parse(text, rejectForbiddenKeys) : JSON.parse(text) };
    } catch (error) {
      throw new DataFileError(
        `Data file ${this.#file} is not valid JSON (${(error as Error).message}); fix or move it away, it will not be overwritten`,
      );
    }
  }

  #unreadable(error: unknown): DataFileError {
    return new DataFileError(`Cannot read data file ${this.#file}: ${(error as Error).message}`);
  }

  async write(data: T): Promise<void> {
    // Synchronously, before any await: what this write carries.
    const snapshot = snapshotContainers(data, SNAPSHOT_DEPTH);
    await mkdir(dirname(this.#file), { recursive: true });
    const handle = await open(this.#tmp, 'w', 0o600);
    try {
      const out = new ChunkedOutput(handle);
      await writeJson(snapshot, '', out);
      await out.flush();
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

/** The document read in 1 MiB chunks through the framed parser (NotFramed when the layout differs). */
async function readFramed(handle: FileHandle): Promise<unknown> {
  const decoder = new StringDecoder('utf8');
  const parser = new FramedDocumentParser();
  const buffer = Buffer.allocUnsafe(CHUNK_CHARS);
  for (let position = 0; ;) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) break;
    position += bytesRead;
    parser.push(decoder.write(buffer.subarray(0, bytesRead)));
  }
  parser.push(decoder.end());
  return parser.end();
}

export async function syncDirectory(dir: string): Promise<void> {
  // Makes the rename itself durable; some platforms cannot open a directory, which is harmless.
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    /* not supported here */
  }
}

/** The data file's containers: the document, `entities`, each collection; entities are leaves. */
const SNAPSHOT_DEPTH = 3;
const CHUNK_CHARS = 1 << 20;

/** A plain object's members at one instant. */
class ObjectSnapshot {
  constructor(
    readonly keys: readonly string[],
    readonly values: readonly unknown[],
  ) {}
}

function snapshotContainers(value: unknown, depth: number): unknown {
  // A Map (a collection of the store) is written as the object it stands for, in insertion order.
  if (depth > 0 && value instanceof Map) {
    const values = [...(value as Map<string, unknown>).values()];
    for (let i = 0; i < values.length; i++) values[i] = snapshotContainers(values[i], depth - 1);
    return new ObjectSnapshot([...(value as Map<string, unknown>).keys()], values);
  }
  if (
    depth === 0 ||
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    typeof (value as { toJSON?: unknown }).toJSON === 'function'
  )
    return value;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record); // the order JSON.stringify uses
  const values = new Array<unknown>(keys.length);
  for (let i = 0; i < keys.length; i++) values[i] = snapshotContainers(record[keys[i]!], depth - 1);
  return new ObjectSnapshot(keys, values);
}

/** Collects text and writes it to the file about every megabyte. */
class ChunkedOutput {
  #parts: string[] = [];
  #size = 0;

  constructor(private readonly handle: FileHandle) {}

  /** True when a chunk is full: the caller awaits `flush()` (no promise per member otherwise). */
  add(text: string): boolean {
    this.#parts.push(text);
    this.#size += text.length;
    return this.#size >= CHUNK_CHARS;
  }

  async flush(): Promise<void> {
    if (this.#size === 0) return;
    const bytes = Buffer.from(this.#parts.join(''), 'utf8');
    this.#parts = [];
    this.#size = 0;
    for (let written = 0; written < bytes.length;) written += (await this.handle.write(bytes, written)).bytesWritten;
  }
}

/**
 * Exactly the text of `JSON.stringify(value, null, 1)`, produced member by member: members whose
 * value JSON leaves out (undefined, functions) are left out here too, deeper values are
 * stringified whole and indented (string values hold no raw line break, so every one in the text
 * is the layout's).
 */
async function writeJson(node: unknown, indent: string, out: ChunkedOutput): Promise<void> {
  if (!(node instanceof ObjectSnapshot)) {
    if (out.add(leafJson(node, indent) ?? 'null')) await out.flush();
    return;
  }
  const inner = indent + ' ';
  let first = true;
  for (let i = 0; i < node.keys.length; i++) {
    const value = node.values[i];
    const head = `${first ? '{\n' : ',\n'}${inner}${JSON.stringify(node.keys[i])}: `;
    if (value instanceof ObjectSnapshot) {
      out.add(head);
      await writeJson(value, inner, out);
    } else {
      const text = leafJson(value, inner);
      if (text === undefined) continue;
      if (out.add(head + text)) await out.flush();
    }
    first = false;
  }
  if (out.add(first ? '{}' : `\n${indent}}`)) await out.flush();
}

function leafJson(value: unknown, indent: string): string | undefined {
  const text = JSON.stringify(value, null, 1) as string | undefined;
  return text === undefined || indent === '' || !text.includes('\n') ? text : text.replaceAll('\n', '\n' + indent);
}
