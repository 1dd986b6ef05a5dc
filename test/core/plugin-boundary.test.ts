import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BROWSER_TYPE_MODULES } from '../../backoffice/server/door.js';

// The sources, not the build: the test runs from dist/test/core.
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** The plugins' door: `core/plugin-api.ts`, which re-exports the named modules of `core/plugin-api/`. */
const PLUGIN_API = 'core/plugin-api.ts';
const PLUGIN_API_MODULES = 'core/plugin-api/';
/** The back office's door: the one file of `backoffice/` that imports the core. */
const BACKOFFICE_DOOR = 'backoffice/server/door.ts';

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|js)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

interface Specifier {
  path: string;
  /** `import type`, `export type` or a type position `import('…')`: erased from the output. */
  typeOnly: boolean;
}

/** Every relative module a file names: imports, re-exports, dynamic imports and augmentations. */
function relativeSpecifiers(source: string): Specifier[] {
  const found: Specifier[] = [];
  for (const match of source.matchAll(
    /(\b(?:import|export)\s+type\b[^;]*?\bfrom\s*|\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\bdeclare\s+module\s+)['"](\.{1,2}\/[^'"]+)['"]/g,
  ))
    found.push({ path: match[2]!, typeOnly: /^(import|export)\s+type\b/.test(match[1]!) });
  return found;
}

/** The repository path a specifier of `file` names (`.js` read as the `.ts` source when there is no `.js` source). */
function targetOf(file: string, specifier: string, isSource: (path: string) => boolean): string {
  const target = relative(ROOT, resolve(ROOT, dirname(file), specifier));
  return isSource(target) ? target : target.replace(/\.js$/, '.ts');
}

/**
 * Which files a plugin or back-office file reaches that it may not. A plugin: its own folder and
 * the plugin API's modules. The back office: its own files; its door reaches the core; browser code
 * (`backoffice/public/`) also the core modules the door lists for types, by type-only imports.
 */
export function boundaryViolations(
  files: readonly string[],
  read: (file: string) => string,
  browserTypeModules: readonly string[] = [],
): string[] {
  const known = new Set(files);
  const violations: string[] = [];
  for (const file of files) {
    const allowed = ruleFor(file, browserTypeModules);
    if (!allowed) continue;
    for (const specifier of relativeSpecifiers(read(file))) {
      const target = targetOf(file, specifier.path, (path) => known.has(path));
      if (!allowed(target.split(sep).join('/'), specifier.typeOnly)) violations.push(`${file} -> ${target}`);
    }
  }
  return violations;
}

type Rule = (target: string, typeOnly: boolean) => boolean;

function ruleFor(file: string, browserTypeModules: readonly string[]): Rule | null {
  const parts = file.split(sep);
  if (parts[0] === 'plugins') {
    if (parts.length < 3) return null; // plugins/index.ts lists the plugins
    const ownFolder = `plugins/${parts[1]}/`;
    return (target) => target.startsWith(ownFolder) || target === PLUGIN_API || target.startsWith(PLUGIN_API_MODULES);
  }
  if (parts[0] !== 'backoffice') return null;
  const posixFile = parts.join('/');
  if (posixFile === BACKOFFICE_DOOR) return (target) => target.startsWith('backoffice/') || target.startsWith('core/');
  // Browser code: the TypeScript sources (`backoffice/src/`) and the static files beside them
  if (posixFile.startsWith('backoffice/src/') || posixFile.startsWith('backoffice/public/'))
    return (target, typeOnly) => target.startsWith('backoffice/') || (typeOnly && browserTypeModules.includes(target));
  return (target) => target.startsWith('backoffice/');
}

describe('Plugin API: one door into the core', () => {
  it('no plugin imports a core file other than core/plugin-api.ts and its modules, nor another plugin', () => {
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
        "import type { ApiKeyIssuer } from '../../core/plugin-api/services.js';",
        "import { own } from './own.js';",
      ].join('\n'),
    };
    assert.deepEqual(
      boundaryViolations(Object.keys(sources), (f) => sources[f]!),
      [
        `${join('plugins', 'a', 'x.ts')} -> ${join('core', 'config', 'compiled-state.ts')}`,
        `${join('plugins', 'a', 'x.ts')} -> ${join('plugins', 'b', 'entity.ts')}`,
        `${join('plugins', 'a', 'x.ts')} -> ${join('core', 'http', 'proxy.ts')}`,
        `${join('plugins', 'a', 'x.ts')} -> ${join('core', 'http', 'context.ts')}`,
        `${join('plugins', 'a', 'x.ts')} -> ${join('plugins', 'b', 'index.ts')}`,
      ],
    );
  });
});

describe('Back office: its own door into the core', () => {
  it('only backoffice/server/door.ts imports the core; browser code imports types of the modules the door lists', () => {
    const files = sourceFiles('backoffice');
    assert.ok(files.length > 10, 'the back-office sources were found');
    assert.deepEqual(
      boundaryViolations(files, (f) => readFileSync(join(ROOT, f), 'utf8'), BROWSER_TYPE_MODULES),
      [],
    );
  });

  it('the door lists only modules that exist', () => {
    const core = new Set([...sourceFiles('core'), ...sourceFiles('plugins')].map((f) => f.split(sep).join('/')));
    assert.deepEqual(
      BROWSER_TYPE_MODULES.filter((m) => !core.has(m)),
      [],
    );
  });

  it('the rule catches each kind of crossing, in .js and .ts browser files alike', () => {
    const sources: Record<string, string> = {
      [join('backoffice', 'index.ts')]: [
        "import { AdminApi } from '../core/admin/admin-api.js';",
        "import type { AdminUiFactory } from './server/door.js';",
      ].join('\n'),
      [join('backoffice', 'server', 'sessions.ts')]: [
        "import { readCookie } from '../../core/http/http-utils.js';",
        "import { ApiKeysPlugin } from '../../plugins/apikeys/index.js';",
        "import { readCookie as door } from './door.js';",
      ].join('\n'),
      [join('backoffice', 'server', 'door.ts')]: [
        "export { readCookie } from '../../core/http/http-utils.js';",
        "export type { ApiKey } from '../../plugins/apikeys/index.js';",
      ].join('\n'),
      [join('backoffice', 'public', 'form.js')]: [
        "import { el } from './dom.js';",
        "import { ROUTES } from '../../core/config/entities.js';",
      ].join('\n'),
      [join('backoffice', 'public', 'designer.ts')]: [
        "import type { Route } from '../../core/config/entities.js';",
        "import type { Store } from '../../core/config/store.js';",
        "import { el } from './dom.js';",
      ].join('\n'),
      [join('backoffice', 'public', 'dom.js')]: '',
    };
    assert.deepEqual(
      boundaryViolations(Object.keys(sources), (f) => sources[f]!, ['core/config/entities.ts']),
      [
        `${join('backoffice', 'index.ts')} -> ${join('core', 'admin', 'admin-api.ts')}`,
        `${join('backoffice', 'server', 'sessions.ts')} -> ${join('core', 'http', 'http-utils.ts')}`,
        `${join('backoffice', 'server', 'sessions.ts')} -> ${join('plugins', 'apikeys', 'index.ts')}`,
        `${join('backoffice', 'server', 'door.ts')} -> ${join('plugins', 'apikeys', 'index.ts')}`,
        `${join('backoffice', 'public', 'form.js')} -> ${join('core', 'config', 'entities.ts')}`,
        `${join('backoffice', 'public', 'designer.ts')} -> ${join('core', 'config', 'store.ts')}`,
      ],
    );
  });
});
