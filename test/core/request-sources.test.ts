/**
 * Issue 21 ("nothing security-relevant from the request"): every read of the Host header,
 * `X-Forwarded-*` / `X-Original-*` / `Forwarded`, the request URL, `ctx.host` and `ctx.scheme` in
 * `core/` and `plugins/` is listed in docs/security.md ("Request data the gateway reads") with
 * what it is used for and why that is safe. A new read fails here until it is listed there, and a
 * row whose read is gone fails too, so the list stays true.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const SECTION = '## Request data the gateway reads';

/** What counts as a read, and the name the docs give it. */
const READS: ReadonlyArray<[RegExp, (m: RegExpExecArray) => string]> = [
  [/\breq\.url\b/g, () => 'req.url'],
  [/\b(?:headers|h)\.host\b|headers\[['"]host['"]\]/g, () => 'Host'],
  [
    /['"](x-forwarded|x-original)-([a-z]+)['"]/gi,
    (m) =>
      `${m[1]!.toLowerCase() === 'x-original' ? 'X-Original' : 'X-Forwarded'}-${m[2]![0]!.toUpperCase()}${m[2]!.slice(1).toLowerCase()}`,
  ],
  [/['"]forwarded['"]/gi, () => 'Forwarded'],
  [/\bctx\.host\b/g, () => 'ctx.host'],
  [/\bctx\.scheme\b/g, () => 'ctx.scheme'],
];

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** `file → names read`, comments left out. */
function readsInSources(): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  for (const file of [...sources('core'), ...sources('plugins')]) {
    for (const line of readFileSync(join(ROOT, file), 'utf8').split('\n')) {
      const code = line.trim();
      if (code.startsWith('//') || code.startsWith('*') || code.startsWith('/*')) continue;
      for (const [pattern, name] of READS) {
        for (const match of code.matchAll(pattern)) {
          if (!found.has(file)) found.set(file, new Set());
          found.get(file)!.add(name(match as RegExpExecArray));
        }
      }
    }
  }
  return found;
}

/** `file → names listed`, from the rows of the docs section (first cell: the file, second: the reads). */
function readsInDocs(): Map<string, Set<string>> {
  const text = readFileSync(join(ROOT, 'docs/security.md'), 'utf8');
  const start = text.indexOf(SECTION);
  assert.ok(start >= 0, `docs/security.md has a section "${SECTION}"`);
  const end = text.indexOf('\n## ', start + SECTION.length);
  const listed = new Map<string, Set<string>>();
  for (const row of text
    .slice(start, end === -1 ? undefined : end)
    .split('\n')
    .filter((l) => l.startsWith('| `'))) {
    const [where, reads] = row
      .split('|')
      .slice(1, 3)
      .map((cell) => cell.trim());
    const file = /`([^`]+\.ts)`/.exec(where!)?.[1];
    if (!file) continue;
    if (!listed.has(file)) listed.set(file, new Set());
    for (const name of reads!.matchAll(/`([^`]+)`/g)) listed.get(file)!.add(name[1]!);
  }
  return listed;
}

describe('Request data the gateway reads (docs/security.md)', () => {
  it('lists every read of Host, X-Forwarded-*, Forwarded, the request URL, ctx.host and ctx.scheme in core/ and plugins/', () => {
    const listed = readsInDocs();
    const missing = [...readsInSources()].flatMap(([file, names]) =>
      [...names].filter((n) => !listed.get(file)?.has(n)).map((n) => `${file}: ${n}`),
    );
    assert.deepEqual(missing, [], 'reads not listed in docs/security.md');
  });

  it('lists no read that the sources no longer make', () => {
    const found = readsInSources();
    const stale = [...readsInDocs()].flatMap(([file, names]) =>
      [...names].filter((n) => !found.get(file)?.has(n)).map((n) => `${file}: ${n}`),
    );
    assert.deepEqual(stale, [], 'rows of docs/security.md whose read is gone');
  });
});
