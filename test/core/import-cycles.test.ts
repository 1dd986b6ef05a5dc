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
  return ts
    .preProcessFile(source, true, true)
    .importedFiles.map((file) => file.fileName)
    .filter((name) => /^\.{1,2}\//.test(name));
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
    graph.set(
      file,
      [...new Set(targets)].filter((target) => target !== file && known.has(target)),
    );
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
    assert.ok(
      [...graph.values()].some((targets) => targets.length > 3),
      'imports were resolved',
    );
    const cycles = importCycles(graph);
    assert.deepEqual(
      cycles.map((component) => `${describeCycle(graph, component)}  (component: ${component.join(', ')})`),
      [],
    );
  });

  it('finds type-only, re-export, import() type and long cycles, and none through comments', () => {
    const sources: Record<string, string> = {
      'core/tokens.ts': "export const ADMIN_UI: InjectionToken<import('./gateway.js').AdminUi> = Symbol();",
      'core/gateway.ts': "import { ADMIN_UI } from './tokens.js';",
      'core/a.ts': "import type { B } from './b.js';",
      'core/b.ts': "export { C } from './c.js';",
      'core/c.ts': "import type { A } from './a.js';\nimport { tool } from './leaf.js';",
      'core/leaf.ts':
        "import { x } from 'node:fs';\n/** declare module './user.js' {} */\n// import { u } from './user.js';",
      'core/user.ts': "import { tool } from './leaf.js';\nimport type { A } from './a.js';",
    };
    const graph = importGraph(Object.keys(sources), (file) => sources[file]!);
    assert.deepEqual(importCycles(graph), [
      ['core/a.ts', 'core/b.ts', 'core/c.ts'],
      ['core/gateway.ts', 'core/tokens.ts'],
    ]);
    assert.equal(
      describeCycle(graph, ['core/a.ts', 'core/b.ts', 'core/c.ts']),
      'core/a.ts → core/b.ts → core/c.ts → core/a.ts',
    );
  });
});

/**
 * The order of the core's folders: each imports only those before it (configuration → plugin
 * runtime → compiler → http → admin, with the runtime-state engines below the configuration that
 * builds them, metrics between the plugin runtime and the compiler that meters routes, and the token
 * services after the admin API they add endpoints to). A file directly in `core/` is its own unit.
 * `tokens.ts` is outside the order: it names the type of every DI token, by type-only imports.
 */
export const CORE_LAYERS: readonly string[] = [
  'errors.ts',
  'cache',
  'state',
  'config',
  'plugin-runtime',
  'metrics',
  'compiler',
  'http',
  'admin',
  'keys',
  'oauth',
  'cluster',
  'plugin-api',
  'plugin-api.ts',
  'plugin-host.ts',
  'gateway.ts',
];
const OUTSIDE_THE_ORDER = new Set(['tokens.ts']);

/** The unit of a core file: its folder, or its own name directly in `core/`. */
function coreUnit(file: string): string {
  return file.split('/')[1]!;
}

/** Every import from one core unit to another that runs against `layers`, and every unit not placed. */
export function layerViolations(graph: ReadonlyMap<string, readonly string[]>, layers: readonly string[]): string[] {
  const rank = new Map(layers.map((unit, i) => [unit, i]));
  const problems = new Set<string>();
  for (const [file, targets] of graph) {
    if (!file.startsWith('core/')) continue;
    const from = coreUnit(file);
    if (OUTSIDE_THE_ORDER.has(from)) continue;
    if (!rank.has(from)) problems.add(`core/${from} has no place in the layer order`);
    for (const target of targets) {
      if (!target.startsWith('core/')) continue;
      const to = coreUnit(target);
      if (to === from || OUTSIDE_THE_ORDER.has(to) || !rank.has(from) || !rank.has(to)) continue;
      if (rank.get(to)! > rank.get(from)!) problems.add(`${file} → ${target} (core/${from} comes before core/${to})`);
    }
  }
  return [...problems].sort();
}

/** Pairs of core units that import each other. */
export function mutualImports(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const edges = new Set<string>();
  for (const [file, targets] of graph) {
    for (const target of targets) {
      if (!file.startsWith('core/') || !target.startsWith('core/')) continue;
      const from = coreUnit(file);
      const to = coreUnit(target);
      if (from !== to) edges.add(`${from} ⇄ ${to}`);
    }
  }
  return [...edges]
    .filter((edge) => {
      const [from, to] = edge.split(' ⇄ ');
      return from! < to! && edges.has(`${to} ⇄ ${from}`);
    })
    .sort();
}

function coreGraph(): Map<string, string[]> {
  const files = sourceFiles('core');
  return importGraph(files, (file) => readFileSync(join(ROOT, file), 'utf8'));
}

describe('Imports: the core folders depend one way', () => {
  it('no two core folders import each other (tokens.ts apart: it names types only)', () => {
    const graph = coreGraph();
    for (const file of graph.keys()) if (OUTSIDE_THE_ORDER.has(coreUnit(file))) graph.delete(file);
    assert.deepEqual(mutualImports(graph), []);
  });

  it('each core folder imports only the folders before it: configuration → plugin runtime → compiler → http → admin', () => {
    assert.deepEqual(layerViolations(coreGraph(), CORE_LAYERS), []);
  });

  it('tokens.ts imports types only, so it ties no folder to another at run time', () => {
    const source = ts.createSourceFile(
      'tokens.ts',
      readFileSync(join(ROOT, 'core/tokens.ts'), 'utf8'),
      ts.ScriptTarget.Latest,
    );
    const valueImports = source.statements.filter(
      (s) => (ts.isImportDeclaration(s) && !s.importClause?.isTypeOnly) || ts.isExportDeclaration(s),
    );
    assert.deepEqual(
      valueImports.map((s) => s.getText(source)),
      [],
    );
  });

  it('finds an import against the order, a folder with no place and a mutual pair', () => {
    const graph = importGraph(
      ['core/config/a.ts', 'core/http/b.ts', 'core/new/c.ts', 'core/errors.ts'],
      (file) =>
        ({
          'core/config/a.ts': "import { b } from '../http/b.js';\nimport { E } from '../errors.js';",
          'core/http/b.ts': "import { a } from '../config/a.js';",
          'core/new/c.ts': "import { a } from '../config/a.js';",
          'core/errors.ts': '',
        })[file]!,
    );
    assert.deepEqual(layerViolations(graph, ['errors.ts', 'config', 'http']), [
      'core/config/a.ts → core/http/b.ts (core/config comes before core/http)',
      'core/new has no place in the layer order',
    ]);
    assert.deepEqual(mutualImports(graph), ['config ⇄ http']);
  });
});
