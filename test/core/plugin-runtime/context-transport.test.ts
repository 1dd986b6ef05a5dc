import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

// The sources, not the build: the test runs from dist/test/core/plugin-runtime.
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const CONTEXT = 'core/plugin-runtime/context.ts';
/** Modules of a transport: a plugin-facing type naming one of these would tie plugins to HTTP/1.1. */
const TRANSPORTS = /^(node:)?(http|http2|https|net|tls|stream)$/;

/** Every module a source names: imports, re-exports, `import()` types and calls, augmentations. */
export function moduleSpecifiers(source: string): string[] {
  const file = ts.createSourceFile('x.ts', source, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier)
      found.push((node.moduleSpecifier as ts.StringLiteral).text);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument))
      found.push((node.argument.literal as ts.StringLiteral).text);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword)
      found.push((node.arguments[0] as ts.StringLiteral).text);
    else if (ts.isModuleDeclaration(node) && ts.isStringLiteral(node.name)) found.push(node.name.text);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference))
      found.push((node.moduleReference.expression as ts.StringLiteral).text);
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

/** The transport modules `file` reaches through itself and the relative modules it imports. */
function transportImports(file: string, seen = new Set<string>()): string[] {
  if (seen.has(file)) return [];
  seen.add(file);
  const found: string[] = [];
  for (const specifier of moduleSpecifiers(readFileSync(resolve(ROOT, file), 'utf8'))) {
    if (TRANSPORTS.test(specifier)) found.push(`${file} -> ${specifier}`);
    else if (specifier.startsWith('.'))
      found.push(
        ...transportImports(
          resolve(dirname(resolve(ROOT, file)), specifier)
            .replace(/\.js$/, '.ts')
            .slice(ROOT.length + 1),
          seen,
        ),
      );
  }
  return found;
}

describe('RequestContext: the plugin-facing context holds no transport type', () => {
  it('context.ts reaches nothing from node:http, node:http2 or another transport module', () => {
    assert.deepEqual(transportImports(CONTEXT), []);
  });

  it('the check finds a transport named by an import, a type-only import or an import() type', () => {
    const source = [
      "import type { IncomingMessage } from 'node:http';",
      "export { Http2Stream } from 'http2';",
      "export type Socket = import('node:net').Socket;",
      "import { Logger } from 'pino';",
    ].join('\n');
    assert.deepEqual(
      moduleSpecifiers(source).filter((s) => TRANSPORTS.test(s)),
      ['node:http', 'http2', 'node:net'],
    );
  });
});
