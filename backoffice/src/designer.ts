// The route designer: a route's request path drawn left to right (route → frontend → global plugins
// → the route's plugins by step → backend), each box saying in one line what it does. Boxes open a
// side panel drawn from their schema; plugins are added from the catalog, reordered, enabled,
// disabled and removed. Everything edits a draft: nothing is saved until "Review and save", which
// shows the diff and then writes through the admin API like every other screen.
import { nextId } from './dom.js';
import { verifierChoices } from './choices.js';
import type { JwtVerifier } from './shapes.js';
import { jsonLineDiff } from './json-diff.js';

import { withoutMeta } from './designer/model.js';
import type { Instance, RouteDraft, DesignerHost, Designer } from './designer/model.js';
import { buildPage } from './designer/page.js';
import { summaryKey, refreshSummaries } from './designer/summaries.js';
import { neighbour, move } from './designer/reorder.js';
import { watchExternalChanges } from './designer/external-changes.js';
import { draw, coreBox, globalsGroup } from './designer/layout.js';
import { pluginBox } from './designer/plugin-box.js';
import { openCoreBox, openPlugin, formPanel, openCatalog, openTester } from './designer/panels.js';
import { review, refused } from './designer/save.js';
import { draftWarningsWatcher, placeWarnings } from './warnings.js';

/** `f` with the designer as its first argument given. */
function bind<A extends unknown[], R>(d: Designer, f: (d: Designer, ...args: A) => R): (...args: A) => R {
  return (...args) => f(d, ...args);
}

/**
 * Draw the designer for the route `id` (`new` for a new route) into `host.view`.
 */
export async function routeDesigner(host: DesignerHost, id: string) {
  const { client, catalog, routeSchema, view } = host;
  const d = { host, id, client, catalog, routeSchema, view, isNew: id === 'new', hash: location.hash } as Designer;
  bindParts(d);
  let verifiers: JwtVerifier[];
  [d.stored, d.global, verifiers] = (await Promise.all([
    d.isNew ? Promise.resolve(null) : d.client.request('get', 'routes', { id: d.id }),
    d.client.request('get', 'global-config'),
    d.client.request('list', 'jwt-verifiers'),
  ])) as [RouteDraft | null, { plugins: Instance[]; version?: number }, JwtVerifier[]];
  d.verifiers = verifierChoices(verifiers);
  // A navigation that started while these answers came owns the view now (the hash says which).
  if (location.hash !== d.hash) return;
  d.draft = d.stored ? structuredClone(d.stored) : newRoute();
  d.before = d.stored ? withoutMeta(d.stored) : undefined;
  d.errors = new Map();
  d.summaries = new Map();
  d.externalChange = false;
  d.frontendForm = null;
  d.drafted = draftWarningsWatcher(
    d.client,
    () => withoutMeta(d.draft),
    () => {
      d.draw();
      if (d.frontendForm?.isConnected) placeWarnings(d.frontendForm, d.drafted.warnings, '/frontend');
    },
  );
  buildPage(d);
  d.view.replaceChildren(d.root);
  watchExternalChanges(d);
  d.draw();
  d.refreshSummaries();
  d.drafted.refresh();
  if (d.externalChange) d.notice.hidden = false;
}

function newRoute(): RouteDraft {
  return {
    id: '',
    name: '',
    frontend: { domains: [] },
    backend: { targets: [{ url: 'http://127.0.0.1:3000', weight: 1 }] },
    plugins: [],
  };
}

/** The parts as `d`'s methods, so that each calls the others without importing them. */
function bindParts(d: Designer) {
  Object.assign(d, {
    draw: bind(d, draw),
    coreBox: bind(d, coreBox),
    globalsGroup: bind(d, globalsGroup),
    pluginBox: bind(d, pluginBox),
    openCoreBox: bind(d, openCoreBox),
    openPlugin: bind(d, openPlugin),
    formPanel: bind(d, formPanel),
    openCatalog: bind(d, openCatalog),
    openTester: bind(d, openTester),
    review: bind(d, review),
    refused: bind(d, refused),
    summaryKey,
    refreshSummaries: bind(d, refreshSummaries),
    neighbour: bind(d, neighbour),
    move: bind(d, move),
    pluginInfo: (pluginId: string) => d.catalog.find((p) => p.id === pluginId),
    // Instances keep a key across reorders, so errors, summaries and focus follow them.
    keys: new WeakMap(),
    keyOf: (instance: Instance) => {
      let key = d.keys.get(instance);
      if (!key) d.keys.set(instance, (key = nextId('plugin')));
      return key;
    },
    nameOf: (instance: Instance) => d.pluginInfo(instance.plugin)?.name ?? instance.plugin,
    focusBox: (key: string) =>
      (d.root.querySelector(`[data-box="${CSS.escape(key)}"] .box-open`) as HTMLElement | null)?.focus(),
    diffLines: () => jsonLineDiff(d.before, withoutMeta(d.draft)),
    changed: () => {
      d.draw();
      d.refreshSummaries();
      d.drafted.refresh();
    },
  } satisfies Partial<Designer>);
}
