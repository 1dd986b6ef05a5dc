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
import { createHash, type Hash } from 'node:crypto';

/**
 * What a read found: nothing at all (first start), or the parsed document, whatever it holds; `seal`
 * when the file is sealed and every byte after its seal is what was written with it.
 */
export type DataFileContent = { found: false } | { found: true; data: unknown; seal?: string };

/**
 * A sealed file's first member: `"validated": "<seal>:<sha256 of every byte after this line>"`. The
 * store seals with the fingerprint of the schemas its entities were validated against, so that a
 * start can trust a file no one has touched since (`lowdb-store.ts`); any change to the bytes (a hand
 * edit, a torn copy) breaks the digest and the file is validated as any other.
 */
export const SEAL_MEMBER = 'validated';
const SEAL_PREFIX = `{\n "${SEAL_MEMBER}": "`;
const SEAL_LINE_END = '",\n';
const DIGEST_CHARS = 64;

export class DurableJsonFile<T> implements Adapter<T> {
  readonly #file: string;
  readonly #tmp: string;

  readonly #collectionsAsMaps: boolean;

  /** `collectionsAsMaps`: a file in the layout written here is read with its collections as Maps (`framed-json.ts`). */
  constructor(file: string, options: { collectionsAsMaps?: boolean } = {}) {
    this.#file = file;
    this.#collectionsAsMaps = options.collectionsAsMaps === true;
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
      const framed = await readFramed(handle, this.#collectionsAsMaps).catch((error: unknown) => {
        if (error instanceof NotFramed) return null;
        throw error;
      });
      if (framed !== null) return { found: true, data: framed.data, ...(framed.seal ? { seal: framed.seal } : {}) };
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

  /** Write `data`; with `seal` (no `:` in it), sealed: its first member the seal and the digest of the rest. */
  async write(data: T, seal?: string): Promise<void> {
    // Synchronously, before any await: what this write carries.
    const snapshot = snapshotContainers(seal === undefined ? data : sealedDocument(data, seal), SNAPSHOT_DEPTH);
    await mkdir(dirname(this.#file), { recursive: true });
    const handle = await open(this.#tmp, 'w', 0o600);
    try {
      const digestAt = seal === undefined ? -1 : Buffer.byteLength(SEAL_PREFIX + seal + ':');
      const out = new ChunkedOutput(handle, seal === undefined ? -1 : digestAt + DIGEST_CHARS + SEAL_LINE_END.length);
      await writeJson(snapshot, '', out);
      await out.flush();
      // The digest is known once the rest is written: it fills the field of the same length reserved for it.
      if (seal !== undefined) await handle.write(Buffer.from(out.digest(), 'latin1'), 0, DIGEST_CHARS, digestAt);
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

/** The document read in 1 MiB chunks through the framed parser (NotFramed when the layout differs), with its seal if intact. */
async function readFramed(
  handle: FileHandle,
  collectionsAsMaps: boolean,
): Promise<{ data: unknown; seal: string | null }> {
  const decoder = new StringDecoder('utf8');
  const parser = new FramedDocumentParser({ collectionsAsMaps });
  const buffer = Buffer.allocUnsafe(CHUNK_CHARS);
  let seal: OpenSeal | null = null;
  for (let position = 0; ;) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) break;
    const bytes = buffer.subarray(0, bytesRead);
    if (position === 0) seal = openSeal(bytes);
    else seal?.hash.update(bytes);
    position += bytesRead;
    parser.push(decoder.write(bytes));
  }
  parser.push(decoder.end());
  const data = parser.end();
  return { data, seal: seal !== null && seal.hash.digest('hex') === seal.digest ? seal.seal : null };
}

interface OpenSeal {
  readonly seal: string;
  /** The digest the file claims for the bytes after its seal, and the hash of those read so far. */
  readonly digest: string;
  readonly hash: Hash;
}

/** The seal a file's first chunk starts with, its hash fed the rest of that chunk; null when it has none. */
function openSeal(first: Buffer): OpenSeal | null {
  const head = first.toString('latin1', 0, Math.min(first.length, 1024)); // bytes one to one: offsets hold
  if (!head.startsWith(SEAL_PREFIX)) return null;
  const end = head.indexOf(SEAL_LINE_END, SEAL_PREFIX.length);
  const separator = head.lastIndexOf(':', end);
  if (end === -1 || separator < SEAL_PREFIX.length) return null;
  const digest = head.slice(separator + 1, end);
  if (!/^[0-9a-f]{64}$/.test(digest)) return null;
  const hash = createHash('sha256').update(first.subarray(end + SEAL_LINE_END.length));
  return { seal: head.slice(SEAL_PREFIX.length, separator), digest, hash };
}

/** The document with the seal's member first, its digest field reserved at the digest's length (filled once the rest is written). */
function sealedDocument(data: unknown, seal: string): Record<string, unknown> {
  if (seal.includes(':') || seal.includes('"') || seal.includes('\\')) throw new Error(`Not a seal: ${seal}`);
  const document: Record<string, unknown> = { [SEAL_MEMBER]: '' };
  Object.assign(document, data);
  document[SEAL_MEMBER] = `${seal}:${'0'.repeat(DIGEST_CHARS)}`;
  return document;
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
  /** The digest of what is written after the first `#unhashed` bytes (none: -1). */
  readonly #hash: Hash | null;
  #unhashed: number;

  constructor(
    private readonly handle: FileHandle,
    unhashed = -1,
  ) {
    this.#hash = unhashed < 0 ? null : createHash('sha256');
    this.#unhashed = Math.max(unhashed, 0);
  }

  digest(): string {
    return this.#hash!.digest('hex');
  }

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
    if (this.#hash !== null) {
      const skipped = Math.min(this.#unhashed, bytes.length);
      this.#hash.update(bytes.subarray(skipped));
      this.#unhashed -= skipped;
    }
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
