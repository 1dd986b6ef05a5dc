/**
 * The journals beside a data file and the order they are replayed in. The data file names the journal
 * that continues it (`"journal": "<id>"`); each journal's header names the journal it follows. A
 * compaction starts a new journal following the current one before it writes the new data file, so at
 * every instant of a crash the data file and the chain from it hold every acknowledged change:
 *
 * - before the new data file is in place: old data file → old journal → new journal;
 * - after: new data file → new journal (the old journal's changes are in the data file; when both are
 *   replayed, each record sets a slot to what it already holds).
 *
 * A journal outside the chain of the data file (the previous one after a compaction, or journals of
 * another data file restored over this one) is stale and deleted by the store's writer.
 */
import { randomBytes } from 'node:crypto';
import { readdir, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { readJournal, type JournalContent } from './journal-file.js';

export interface ChainLink {
  readonly path: string;
  readonly content: JournalContent;
}

export interface JournalChain {
  /** The journals to replay, in order (empty: the data file holds everything). */
  readonly links: ChainLink[];
  /** Journals of this data file that are not in the chain. */
  readonly stale: string[];
}

const SUFFIX = '.journal-';

/** Where the journal `id` of `dataFile` lives. */
export function journalPath(dataFile: string, id: string): string {
  return `${dataFile}${SUFFIX}${id}`;
}

export function newJournalId(): string {
  return randomBytes(8).toString('hex');
}

/** Every journal file beside `dataFile`. */
export async function journalFiles(dataFile: string): Promise<string[]> {
  const prefix = basename(dataFile) + SUFFIX;
  let names: string[];
  try {
    names = await readdir(dirname(dataFile));
  } catch {
    return [];
  }
  return names.filter((name) => name.startsWith(prefix)).map((name) => join(dirname(dataFile), name));
}

/** The chain that continues a data file naming journal `first` (null: a file written before journals). */
export async function readChain(dataFile: string, first: string | null): Promise<JournalChain> {
  const byId = new Map<string, ChainLink>();
  const paths = await journalFiles(dataFile);
  for (const path of paths) {
    const content = await readJournal(path);
    if (content !== null && path === journalPath(dataFile, content.header.journal))
      byId.set(content.header.journal, { path, content });
  }
  const links: ChainLink[] = [];
  const followers = new Map<string, ChainLink>();
  for (const link of byId.values())
    if (link.content.header.follows !== null) followers.set(link.content.header.follows, link);
  for (let id = first; id !== null;) {
    const own = byId.get(id);
    if (own && !links.includes(own)) links.push(own);
    const next = followers.get(id);
    if (next === undefined || links.includes(next)) break;
    id = next.content.header.journal;
  }
  const kept = new Set(links.map((link) => link.path));
  return { links, stale: paths.filter((path) => !kept.has(path)) };
}

/** Delete journals; one that is already gone is no failure. */
export async function deleteJournals(paths: readonly string[]): Promise<void> {
  for (const path of paths) await unlink(path).catch(() => {});
}
