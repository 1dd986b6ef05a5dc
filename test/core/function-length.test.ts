// Functions fit on a screen: no function in `core/`, `plugins/` or the back office (`backoffice/src/`,
// `backoffice/server/`) is longer than 80 lines (as formatted by prettier at width 120). A longer one
// is split into named steps, not wrapped less.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const repoRoot = normalize(join(dirname(fileURLToPath(import.meta.url)), '../../..'));

const MAX_LINES = 80;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

export function longFunctions(files: string[], max = MAX_LINES): string[] {
  const found: string[] = [];
  for (const file of files) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body) {
        const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
        const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
        if (end - start + 1 > max) found.push(`${relative(repoRoot, file)}:${start + 1} (${end - start + 1} lines)`);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

describe('function length', () => {
  it(`finds no function longer than ${MAX_LINES} lines in core/ and plugins/`, () => {
    const files = [...sources(join(repoRoot, 'core')), ...sources(join(repoRoot, 'plugins'))];
    assert.ok(files.length > 50, 'the scan found the sources');
    assert.deepEqual(longFunctions(files), []);
  });

  it(`finds no function longer than ${MAX_LINES} lines in the back office (browser scripts and server)`, () => {
    const browser = sources(join(repoRoot, 'backoffice/src'));
    const server = sources(join(repoRoot, 'backoffice/server'));
    assert.ok(browser.length > 20 && server.length > 2, 'the scan found the sources');
    assert.deepEqual(longFunctions([...browser, ...server]), []);
  });

  it('reports a function one line too long, and not one of exactly the limit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'function-length-'));
    const fn = (name: string, lines: number) =>
      `function ${name}() {\n${Array.from({ length: lines - 2 }, (_, i) => `  const v${i} = ${i};`).join('\n')}\n}\n`;
    const file = join(dir, 'sample.ts');
    writeFileSync(file, fn('fits', MAX_LINES) + fn('tooLong', MAX_LINES + 1));
    const found = longFunctions([file]);
    assert.equal(found.length, 1);
    assert.match(found[0]!, new RegExp(`:${MAX_LINES + 1} \\(${MAX_LINES + 1} lines\\)$`));
  });
});
