import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

// The sources, not the build: the test runs from dist/test/core. Type-only imports count: a cycle
// of types still ties the modules together (and tsc erases it only from the output, not the design).
const ROOT = normalize(join(dirname(fileURLToPath(import.meta.url)), '../../..'));
const SOURCE_DIRS = ['core', 'plugins', 'backoffice', 'bin'];

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = posix.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|js)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/**
 * Every relative module a source names: static and type imports, re-exports, `import()` (in code or
 * in types) and module augmentations. TypeScript's own pre-processor finds them, so an import in a
 * comment or a string is not one.
 */
export function relativeSpecifiers(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((file) => file.fileName).filter((name) => /^\.{1,2}\//.test(name));
}

/** The import graph: file → the files it names (`.js` specifiers resolve to the `.ts` source). */
export function importGraph(files: readonly string[], read: (file: string) => string): Map<string, string[]> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const targets = relativeSpecifiers(read(file)).map((specifier) => {
      const target = posix.normalize(posix.join(posix.dirname(file), specifier));
      const asTs = target.replace(/\.js$/, '.ts');
      return known.has(asTs) ? asTs : target;
    });
    graph.set(file, [...new Set(targets)].filter((target) => target !== file && known.has(target)));
  }
  return graph;
}

/** Strongly connected components with more than one file (Tarjan), each listed from its first file in order. */
export function importCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const lowLink = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  let next = 0;
  const visit = (node: string): void => {
    index.set(node, next);
    lowLink.set(node, next);
    next++;
    stack.push(node);
    onStack.add(node);
    for (const target of graph.get(node) ?? []) {
      if (!index.has(target)) {
        visit(target);
        lowLink.set(node, Math.min(lowLink.get(node)!, lowLink.get(target)!));
      } else if (onStack.has(target)) {
        lowLink.set(node, Math.min(lowLink.get(node)!, index.get(target)!));
      }
    }
    if (lowLink.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1) cycles.push(component.sort());
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return cycles.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** One concrete loop through a component, `a → b → … → a`, so the failure says which imports to cut. */
function describeCycle(graph: ReadonlyMap<string, readonly string[]>, component: readonly string[]): string {
  const members = new Set(component);
  const start = component[0]!;
  const path = [start];
  const seen = new Set([start]);
  for (let node = start; ;) {
    const targets = (graph.get(node) ?? []).filter((t) => members.has(t));
    const back = targets.find((t) => t === start);
    if (back && path.length > 1) return [...path, start].join(' → ');
    const forward = targets.find((t) => !seen.has(t)) ?? back ?? targets[0]!;
    if (seen.has(forward)) return [...path.slice(path.indexOf(forward)), forward].join(' → ');
    path.push(forward);
    seen.add(forward);
    node = forward;
  }
}

describe('Imports: the module graph has no cycles', () => {
  it('no cycle among core/, plugins/, backoffice/ and bin/ sources, type-only imports included', () => {
    const files = SOURCE_DIRS.filter((dir) => existsSync(join(ROOT, dir))).flatMap(sourceFiles);
    assert.ok(files.length > 50, 'the sources were found');
    const graph = importGraph(files, (file) => readFileSync(join(ROOT, file), 'utf8'));
    assert.ok([...graph.values()].some((targets) => targets.length > 3), 'imports were resolved');
    const cycles = importCycles(graph);
    assert.deepEqual(cycles.map((component) => `${describeCycle(graph, component)}  (component: ${component.join(', ')})`), []);
  });

  it('finds type-only, re-export, import() type and long cycles, and none through comments', () => {
    const sources: Record<string, string> = {
      'core/tokens.ts': "export const ADMIN_UI: InjectionToken<import('./gateway.js').AdminUi> = Symbol();",
      'core/gateway.ts': "import { ADMIN_UI } from './tokens.js';",
      'core/a.ts': "import type { B } from './b.js';",
      'core/b.ts': "export { C } from './c.js';",
      'core/c.ts': "import type { A } from './a.js';\nimport { tool } from './leaf.js';",
      'core/leaf.ts': "import { x } from 'node:fs';\n/** declare module './user.js' {} */\n// import { u } from './user.js';",
      'core/user.ts': "import { tool } from './leaf.js';\nimport type { A } from './a.js';",
    };
    const graph = importGraph(Object.keys(sources), (file) => sources[file]!);
    assert.deepEqual(importCycles(graph), [['core/a.ts', 'core/b.ts', 'core/c.ts'], ['core/gateway.ts', 'core/tokens.ts']]);
    assert.equal(describeCycle(graph, ['core/a.ts', 'core/b.ts', 'core/c.ts']), 'core/a.ts → core/b.ts → core/c.ts → core/a.ts');
  });
});
