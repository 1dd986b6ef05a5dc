import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

// The sources, not the build: the test runs from dist/test/core.
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const PLUGIN_API = 'core/plugin-api.ts';

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every relative module a file names: imports, re-exports, dynamic imports and augmentations. */
function relativeSpecifiers(source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(
    /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\bdeclare\s+module\s+)['"](\.{1,2}\/[^'"]+)['"]/g,
  ))
    found.push(match[1]!);
  return found;
}

/** Which files a plugin file reaches that it may not: another plugin's, or core files other than the plugin API. */
export function boundaryViolations(files: readonly string[], read: (file: string) => string): string[] {
  const violations: string[] = [];
  for (const file of files) {
    const parts = file.split(sep);
    if (parts[0] !== 'plugins' || parts.length < 3) continue; // plugins/index.ts lists the plugins
    const ownFolder = join('plugins', parts[1]!);
    for (const specifier of relativeSpecifiers(read(file))) {
      const target = relative(ROOT, resolve(ROOT, dirname(file), specifier)).replace(/\.js$/, '.ts');
      if (target.startsWith(ownFolder + sep) || target === PLUGIN_API) continue;
      violations.push(`${file} -> ${target}`);
    }
  }
  return violations;
}

describe('Plugin API: one door into the core', () => {
  it('no plugin imports a core file other than core/plugin-api.ts, nor another plugin', () => {
    const files = sourceFiles('plugins');
    assert.ok(files.length > 20, 'the plugin sources were found');
    assert.deepEqual(
      boundaryViolations(files, (f) => readFileSync(join(ROOT, f), 'utf8')),
      [],
    );
  });

  it('the rule catches each kind of crossing', () => {
    const sources: Record<string, string> = {
      [join('plugins', 'a', 'x.ts')]: [
        "import { State } from '../../core/config/compiled-state.js';",
        "import type { ApiKey } from '../b/entity.js';",
        "export { thing } from '../../core/http/proxy.js';",
        "declare module '../../core/http/context.js' {}",
        "const m = await import('../b/index.js');",
        "import { Plugin } from '../../core/plugin-api.js';",
        "import { own } from './own.js';",
      ].join('\n'),
    };
    assert.deepEqual(
      boundaryViolations(Object.keys(sources), (f) => sources[f]!),
      [
        `${join('plugins', 'a', 'x.ts')} -> core/config/compiled-state.ts`,
        `${join('plugins', 'a', 'x.ts')} -> plugins/b/entity.ts`,
        `${join('plugins', 'a', 'x.ts')} -> core/http/proxy.ts`,
        `${join('plugins', 'a', 'x.ts')} -> core/http/context.ts`,
        `${join('plugins', 'a', 'x.ts')} -> plugins/b/index.ts`,
      ],
    );
  });
});
