/**
 * The plugin API's surface, pinned: the names `core/plugin-api.ts` exports, read by the TypeScript
 * checker, are the committed list `plugin-api-surface.txt` (so adding or removing one is a
 * deliberate change, with `PLUGIN_API_VERSION` bumped to match); and the host a module receives
 * reaches no DI container, store or write service, checked both by the compiler and by walking
 * the host's type.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import type { DependencyContainer } from 'tsyringe';
import type { PluginHost } from '../../core/plugin-api.js';
import type { Store } from '../../core/config/store.js';
import type { EntityService } from '../../core/config/entity-service.js';

// The sources, not the build: the test runs from dist/test/core.
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const DOOR = join(ROOT, 'core/plugin-api.ts');
const SURFACE = join(ROOT, 'test/core/plugin-api-surface.txt');

/** Types no plugin may reach through its host. */
const FORBIDDEN = ['DependencyContainer', 'Store', 'EntityService', 'EntityRegistry', 'AdminApi'];

// Compile-time: no member of the host (nor of its groups) is the container, the store or the write service.
type Members<T> = T[keyof T];
type HostSurface = Members<PluginHost> | Members<PluginHost['entities']> | Members<PluginHost['keys']>;
type Reaches<U> = [Extract<HostSurface, U>] extends [never] ? false : true;
const hostReachesContainer: Reaches<DependencyContainer> = false;
const hostReachesStore: Reaches<Store> = false;
const hostReachesEntityService: Reaches<EntityService> = false;

function checkerFor(files: string[], host?: ts.CompilerHost): { program: ts.Program; checker: ts.TypeChecker } {
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    experimentalDecorators: true,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
  };
  const program = ts.createProgram(files, options, host);
  return { program, checker: program.getTypeChecker() };
}

/** `name: value` or `name: type`, sorted: what the module exports. */
export function exportedNames(program: ts.Program, checker: ts.TypeChecker, file: string): string[] {
  const module = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
  return checker
    .getExportsOfModule(module)
    .map((symbol) => {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      return `${symbol.name}: ${target.flags & ts.SymbolFlags.Value ? 'value' : 'type'}`;
    })
    .sort();
}

/** The names of the named types reachable from a type through its properties, methods' parameters and results. */
export function reachableTypeNames(checker: ts.TypeChecker, root: ts.Type, depth = 3): Set<string> {
  const seen = new Set<ts.Type>();
  const names = new Set<string>();
  const visit = (type: ts.Type, left: number): void => {
    if (seen.has(type)) return;
    seen.add(type);
    const name = typeName(type);
    if (name && !name.startsWith('__')) names.add(name);
    if (left === 0) return;
    if (type.isUnionOrIntersection()) for (const part of type.types) visit(part, left);
    for (const property of type.getProperties()) {
      const declaration = property.valueDeclaration ?? property.declarations?.[0];
      if (!declaration || !isPublic(property, declaration)) continue;
      const propertyType = checker.getTypeOfSymbolAtLocation(property, declaration);
      visit(propertyType, left - 1);
      for (const signature of propertyType.getCallSignatures()) {
        visit(signature.getReturnType(), left - 1);
        for (const parameter of signature.getParameters())
          visit(checker.getTypeOfSymbolAtLocation(parameter, declaration), left - 1);
      }
    }
  };
  visit(root, depth);
  return names;
}

/** A type's declared name (a default export, such as tsyringe's `DependencyContainer`, is named by its declaration). */
function typeName(type: ts.Type): string | undefined {
  const symbol = type.aliasSymbol ?? type.getSymbol();
  if (symbol?.name !== 'default') return symbol?.name;
  const declared = symbol.declarations?.[0] as ts.NamedDeclaration | undefined;
  return declared?.name && ts.isIdentifier(declared.name) ? declared.name.text : undefined;
}

/** What a plugin can touch: `#private` and `private`/`protected` members of a class it is given are not. */
function isPublic(property: ts.Symbol, declaration: ts.Declaration): boolean {
  if (property.name.startsWith('#')) return false;
  const modifiers = ts.getCombinedModifierFlags(declaration);
  return (modifiers & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) === 0;
}

function hostType(checker: ts.TypeChecker, program: ts.Program, file: string, name: string): ts.Type {
  const module = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
  const symbol = checker.getExportsOfModule(module).find((s) => s.name === name)!;
  return checker.getDeclaredTypeOfSymbol(
    symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol,
  );
}

describe('Plugin API: the surface is pinned', () => {
  const { program, checker } = checkerFor([DOOR]);

  it('core/plugin-api.ts exports exactly the committed list (test/core/plugin-api-surface.txt)', () => {
    const committed = readFileSync(SURFACE, 'utf8')
      .split('\n')
      .filter((line) => line && !line.startsWith('#'));
    assert.deepEqual(exportedNames(program, checker, DOOR), committed);
  });

  it('the host reaches no DI container, configuration store or write service', () => {
    assert.deepEqual([hostReachesContainer, hostReachesStore, hostReachesEntityService], [false, false, false]);
    const reached = reachableTypeNames(checker, hostType(checker, program, DOOR, 'PluginHost'));
    assert.ok(reached.has('EntityHandle') && reached.has('StateStore'), 'the walk reaches the host members');
    assert.deepEqual(
      FORBIDDEN.filter((name) => reached.has(name)),
      [],
    );
  });

  it('the walk finds a container behind a host member', () => {
    const file = join(ROOT, 'test/core/__leaky-host__.ts');
    const source = [
      "import type { DependencyContainer } from 'tsyringe';",
      'export interface Leaky { readonly id: string; readonly services: { get(): DependencyContainer } }',
    ].join('\n');
    const compilerHost = ts.createCompilerHost({});
    const read = compilerHost.getSourceFile.bind(compilerHost);
    compilerHost.getSourceFile = (name, language) =>
      resolve(name) === file ? ts.createSourceFile(name, source, language) : read(name, language);
    compilerHost.fileExists = (
      (exists) => (name: string) =>
        resolve(name) === file || exists(name)
    )(compilerHost.fileExists.bind(compilerHost));
    const fixture = checkerFor([file], compilerHost);
    const reached = reachableTypeNames(fixture.checker, hostType(fixture.checker, fixture.program, file, 'Leaky'));
    assert.deepEqual(
      FORBIDDEN.filter((name) => reached.has(name)),
      ['DependencyContainer'],
    );
  });
});
