/**
 * What the embedded store holds on disk while a gateway runs: the data file plus the journal that
 * continues it (core/config/journal-chain.ts). A test that checks what was stored reads through
 * these, since a write of one entity is appended to the journal, not written into the data file.
 */
import { readFileSync } from 'node:fs';
import { readChain, journalFiles } from '../../core/config/journal-chain.js';

interface StoredDocument {
  schemaVersion: number;
  journal?: string;
  settings: Record<string, unknown>;
  entities: Record<string, any>;
}

/** The data file's document with its journal chain replayed, as the next start would read it. */
export async function storedDocument(dataFile: string): Promise<StoredDocument> {
  const document = JSON.parse(readFileSync(dataFile, 'utf8')) as StoredDocument;
  document.settings ??= {};
  document.entities ??= {};
  const chain = await readChain(dataFile, document.journal ?? null);
  for (const { content } of chain.links) {
    for (const record of content.records) {
      if (record.op === 'setting') document.settings[record.key] = record.value;
      else if (record.op === 'delete') delete document.entities[record.kind]?.[record.id];
      else (document.entities[record.kind] ??= {})[record.id] = record.entity;
    }
  }
  return document;
}

/** Every byte stored: the data file's text and its journals' (for checks that a secret is never stored). */
export async function storedText(dataFile: string): Promise<string> {
  const texts = [readFileSync(dataFile, 'utf8')];
  for (const path of await journalFiles(dataFile)) texts.push(readFileSync(path, 'utf8'));
  return texts.join('\n');
}
