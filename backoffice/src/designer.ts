// The route designer: a route's request path drawn left to right (route → frontend → global plugins
// → the route's plugins by step → backend), each box saying in one line what it does. Boxes open a
// side panel drawn from their schema; plugins are added from the catalog, reordered, enabled,
// disabled and removed. Everything edits a draft: nothing is saved until "Review and save", which
// shows the diff and then writes through the admin API like every other screen.
import { failure } from './client.js';
import { refusalSummary } from './refusal.js';
import { h, toast, nextId } from './dom.js';
import { schemaForm } from './form.js';
import { requestTesterPanel } from './request-tester.js';
import { jsonLineDiff, diffStats, diffView } from './json-diff.js';
import { openSidePanel, closeSidePanel } from './side-panel.js';
import { draftWarningsWatcher, placeWarnings, warningNote } from './warnings.js';

import type { Client, ErrorDetail } from './client.js';
import type { JsonSchema, JsonObject, PluginInfo } from './form.js';
export type Instance = {
  plugin: string;
  enabled?: boolean;
  include?: string[];
  exclude?: string[];
  config?: JsonObject;
};
export type Target = { url: string; weight?: number };
export type Backend = { targets: Target[]; timeouts?: { connectMs?: number; headersMs?: number; bodyMs?: number } };
export type Frontend = {
  domains: string[];
  methods?: string[];
  headers?: Record<string, string>;
  query?: Record<string, string>;
  stripPath?: boolean;
  exact?: boolean;
};
export type RouteDraft = JsonObject & {
  id: string;
  name: string;
  enabled?: boolean;
  tags?: string[];
  mode?: string;
  frontend: Frontend;
  backend?: Backend;
  plugins: Instance[];
  version?: number;
};
export type Summary = { plugin: string; summary: string | null; problems: ErrorDetail[] };
/** what the app gives the designer */
export interface DesignerHost {
  client: Client;
  catalog: PluginInfo[];
  routeSchema: JsonSchema;
  view: HTMLElement;
  go: (hash: string) => void;
  /** called when routes or the global configuration change elsewhere */
  onExternalChange: (refresh: () => unknown) => void;
}

/** Route steps in request order; `sink` is for global plugins only (they answer before routing). */
const ROUTE_STEPS = ['preRoute', 'validateAccess', 'transformRequest', 'transformResponse', 'after'];
const STEP_HELP: Record<string, string> = {
  sink: 'before routing; may answer the request itself',
  preRoute: 'first, before any access check',
  validateAccess: 'who may call: refuses with 401 or 403',
  transformRequest: 'edits the request sent upstream',
  transformResponse: 'edits the response head on its way back',
  after: 'once the response is sent',
};
/** Fields of the core's boxes folded under "Advanced settings" (plugins mark theirs with `x-advanced`). */
const ADVANCED = new Set([
  'route:/description',
  'route:/mode',
  'route:/authorizer',
  'frontend:/exact',
  'frontend:/caseSensitive',
  'frontend:/allowPathParameters',
  'frontend:/query',
  'backend:/rewriteHost',
  'backend:/tls',
  'backend:/timeouts',
  'plugin:/include',
  'plugin:/exclude',
]);
const META = new Set(['version', 'createdAt', 'updatedAt']);

/**
 * Draw the designer for the route `id` (`new` for a new route) into `host.view`.
 */
export async function routeDesigner(host: DesignerHost, id: string) {
  const { client, catalog, routeSchema, view } = host;
  const isNew = id === 'new';
  const hash = location.hash;
  const [stored, global] = (await Promise.all([
    isNew ? Promise.resolve(null) : client.request('get', 'routes', { id }),
    client.request('get', 'global-config'),
  ])) as [RouteDraft | null, { plugins: Instance[]; version?: number }];
  const draft: RouteDraft = stored
    ? structuredClone(stored)
    : {
        id: '',
        name: '',
        frontend: { domains: [] },
        backend: { targets: [{ url: 'http://127.0.0.1:3000', weight: 1 }] },
        plugins: [],
      };
  // A navigation that started while these answers came owns the view now (the hash says which).
  if (location.hash !== hash) return;
  const before = stored ? withoutMeta(stored) : undefined;
  const pluginInfo = (pluginId: string) => catalog.find((p) => p.id === pluginId);

  // Instances keep a key across reorders, so errors, summaries and focus follow them.
  const keys: WeakMap<Instance, string> = new WeakMap();
  const keyOf = (instance: Instance) => {
    let key = keys.get(instance);
    if (!key) keys.set(instance, (key = nextId('plugin')));
    return key;
  };
  /** Problems from the last refused save, by box key, paths relative to the box's form. */
  let errors: Map<string, ErrorDetail[]> = new Map();
  const summaries: Map<string, Summary> = new Map();
  let externalChange = false;

  const flow = h('div', { class: 'flow', role: 'group', 'aria-label': "The request's path through this route" });
  const changes = h('p', { class: 'designer-changes', role: 'status' });
  const general = h('div', { class: 'form-errors', role: 'alert', hidden: true });
  const notice = h(
    'p',
    { class: 'warn-note', role: 'status', hidden: true },
    'This route or the global plugins changed elsewhere. Saving your draft will be refused as stale: discard it to see the new version.',
  );
  const reviewButton = h(
    'button',
    { type: 'button', class: 'primary', onclick: () => review() },
    isNew ? 'Review and create…' : 'Review and save…',
  );
  const discardButton = h(
    'button',
    { type: 'button', onclick: () => host.go(`#/routes/${encodeURIComponent(id)}`) },
    'Discard changes',
  );
  const testButton = h(
    'button',
    {
      type: 'button',
      dataset: { opens: 'tester' },
      disabled: isNew,
      title: isNew ? 'Save the route first: the tester runs the saved route' : null,
      onclick: () => openTester(),
    },
    'Test this route',
  );
  const deleteButton = isNew
    ? null
    : h(
        'button',
        {
          type: 'button',
          class: 'danger',
          onclick: async () => {
            if (!confirm(`Delete the route ${draft.name}?`)) return;
            try {
              await client.request('delete', 'routes', { id });
              toast('Route deleted');
              host.go('#/routes');
            } catch (error) {
              toast(failure(error).message, 'bad');
            }
          },
        },
        'Delete',
      );
  const routeStrip = h('div', { class: 'route-strip' });
  const title = h('h1', {}, isNew ? 'New route' : `Route: ${draft.name}`);
  const root = h(
    'div',
    { class: 'designer' },
    h(
      'div',
      { class: 'page-head' },
      title,
      h(
        'div',
        { class: 'actions' },
        testButton,
        h('a', { class: 'button', href: `#/routes/${encodeURIComponent(id)}/form` }, 'Edit as form'),
        deleteButton,
      ),
    ),
    h(
      'p',
      { class: 'hint' },
      'Click a box to edit it in the side panel. Changes stay in this draft until you review and save them. Alt+↑ and Alt+↓ move the focused plugin earlier or later.',
    ),
    notice,
    general,
    h('div', { class: 'designer-toolbar' }, routeStrip, changes, reviewButton, discardButton),
    flow,
  );
  view.replaceChildren(root);

  host.onExternalChange(async () => {
    // Our own save comes back as a change too: only a newer version than the one drawn counts.
    const [route, globals] = (await Promise.all([
      isNew ? Promise.resolve(null) : client.request('get', 'routes', { id }).catch(() => null),
      client.request('get', 'global-config'),
    ])) as [RouteDraft | null, { version?: number }];
    // Another page may have replaced this one while the answers came: it decides for itself.
    if (!root.isConnected || (route?.version === stored?.version && globals.version === global.version)) return;
    if (diffLines().some((l) => l.kind !== ' ') || document.querySelector('.designer-panel')) {
      externalChange = true;
      notice.hidden = false;
      return;
    }
    host.go(`#/routes/${encodeURIComponent(id)}`);
  });

  // ── warnings: what the draft would have once saved (a domain and path another route serves) ──
  let frontendForm: HTMLElement | null = null;
  const drafted = draftWarningsWatcher(
    client,
    () => withoutMeta(draft),
    () => {
      draw();
      if (frontendForm?.isConnected) placeWarnings(frontendForm, drafted.warnings, '/frontend');
    },
  );

  // ── summaries: each plugin's own describe(config), computed by the server for the draft ──────
  const summaryKey = (instance: Instance, isGlobal: boolean) => `${isGlobal ? 'g' : 'r'}:${JSON.stringify(instance)}`;
  let summaryTimer: ReturnType<typeof setTimeout> | undefined;
  const refreshSummaries = () => {
    clearTimeout(summaryTimer);
    summaryTimer = setTimeout(
      () =>
        void (async () => {
          const wanted = [
            [draft.plugins, false],
            [global.plugins, true],
          ].flatMap(([list, isGlobal]) => {
            const missing = (list as Instance[]).filter((i) => !summaries.has(summaryKey(i, isGlobal as boolean)));
            return missing.length ? [{ list: missing, isGlobal: isGlobal as boolean }] : [];
          });
          try {
            for (const { list, isGlobal } of wanted) {
              // Keyed as sent: the panel edits instances in place while the answer is on its way.
              const asSent = list.map((instance) => summaryKey(instance, isGlobal));
              const answer = (await client.request('action', 'plugins', {
                action: 'summaries',
                body: { plugins: list, global: isGlobal },
              })) as Summary[];
              answer.forEach((s, i) => summaries.set(asSent[i] as string, s));
            }
            if (wanted.length) draw();
          } catch {
            // Summaries are a convenience; the boxes keep the plugin's description.
          }
        })(),
      150,
    );
  };

  // ── the draft ────────────────────────────────────────────────────────────────────────────
  const diffLines = () => jsonLineDiff(before, withoutMeta(draft));
  const changed = () => {
    draw();
    refreshSummaries();
    drafted.refresh();
  };

  /**
   * The nearest instance before (-1) or after (+1) `index` that shares a step with it: moving past
   * one that runs in other steps would change nothing the request sees.
   */
  const neighbour = (index: number, direction: -1 | 1) => {
    const steps = pluginInfo((draft.plugins[index] as Instance).plugin)?.steps ?? [];
    for (let j = index + direction; j >= 0 && j < draft.plugins.length; j += direction) {
      const other = pluginInfo((draft.plugins[j] as Instance).plugin)?.steps ?? [];
      if (other.some((s) => steps.includes(s))) return j;
    }
    return -1;
  };
  const move = (instance: Instance, direction: -1 | 1) => {
    const index = draft.plugins.indexOf(instance);
    const target = neighbour(index, direction);
    if (target === -1) return;
    draft.plugins.splice(index, 1);
    draft.plugins.splice(target, 0, instance);
    changed();
    focusBox(keyOf(instance));
    toast(`${nameOf(instance)} moved ${direction < 0 ? 'earlier' : 'later'} (not saved yet)`);
  };
  const nameOf = (instance: Instance) => pluginInfo(instance.plugin)?.name ?? instance.plugin;
  const focusBox = (key: string) => {
    (root.querySelector(`[data-box="${CSS.escape(key)}"] .box-open`) as HTMLElement | null)?.focus();
  };

  // ── drawing ──────────────────────────────────────────────────────────────────────────────
  function draw() {
    const lines = diffLines();
    const { added, removed } = diffStats(lines);
    changes.textContent =
      added + removed === 0
        ? isNew
          ? 'A new route: fill in its boxes, then review and create it.'
          : 'No unsaved changes.'
        : `Unsaved changes: ${added} line${added === 1 ? '' : 's'} added, ${removed} removed.`;
    discardButton.disabled = added + removed === 0 || isNew;
    const routeSteps = ROUTE_STEPS.map((step) => ({
      step,
      instances: draft.plugins.filter((i) => pluginInfo(i.plugin)?.steps.includes(step)),
    }));
    routeStrip.replaceChildren(
      coreBox('route', 'Route', routeSummary(draft), [
        h('strong', {}, draft.name || 'no name yet'),
        h('span', { class: 'muted box-id' }, draft.id ? `id ${draft.id}` : 'id generated on create'),
      ]),
    );
    flow.replaceChildren(
      coreBox('frontend', 'Frontend', frontendSummary(draft.frontend), [
        facts([
          ['Domains', draft.frontend.domains.join(', ') || '—'],
          ['Methods', (draft.frontend.methods ?? []).join(', ') || 'any'],
          [
            'Headers',
            Object.entries(draft.frontend.headers ?? {})
              .map(([k, v]) => `${k}: ${v}`)
              .join(', ') || 'none required',
          ],
        ]),
        ...drafted.warnings.filter((w) => w.path.startsWith('/frontend/')).map((w) => warningNote(w)),
      ]),
      arrow(),
      globalsGroup(),
      arrow(),
      h(
        'section',
        { class: 'flow-group route-plugins', 'aria-labelledby': 'route-plugins-title' },
        h(
          'div',
          { class: 'group-head' },
          h('h2', { id: 'route-plugins-title' }, 'Route plugins'),
          h(
            'button',
            { type: 'button', class: 'small primary', dataset: { opens: 'catalog' }, onclick: () => openCatalog() },
            'Add plugin',
          ),
        ),
        draft.plugins.length === 0
          ? h(
              'p',
              { class: 'muted' },
              'No plugin yet: every request that matches goes straight to the backend. Add one from the catalog.',
            )
          : null,
        h(
          'div',
          { class: 'steps' },
          routeSteps.map(({ step, instances }) =>
            h(
              'section',
              { class: `step-column${instances.length ? '' : ' empty'}`, 'aria-label': `Step ${step}` },
              h('h3', { class: 'step-name' }, step),
              h('p', { class: 'step-help' }, STEP_HELP[step]),
              instances.length
                ? instances.map((instance) => pluginBox(instance, step))
                : h('p', { class: 'muted step-empty' }, 'nothing'),
            ),
          ),
        ),
      ),
      arrow(),
      coreBox(
        'backend',
        'Backend',
        backendSummary(draft),
        draft.backend
          ? [
              h(
                'ul',
                { class: 'targets' },
                draft.backend.targets.map((t) =>
                  h('li', {}, h('code', {}, t.url || '(no URL)'), ` weight ${t.weight ?? 1}`),
                ),
              ),
            ]
          : [],
      ),
    );
  }

  function coreBox(key: string, label: string, summary: string, body: import('./dom.js').Child) {
    const problems = errors.get(key) ?? [];
    return h(
      'article',
      {
        class: `box core-box${problems.length ? ' invalid' : ''}`,
        dataset: { box: key },
        onclick: boxClick(() => openCoreBox(key)),
      },
      h(
        'h2',
        { class: 'box-title' },
        h('button', { type: 'button', class: 'box-open', 'aria-haspopup': 'dialog' }, label),
      ),
      h('p', { class: 'box-summary' }, summary),
      body,
      problems.length
        ? h(
            'p',
            { class: 'box-problems' },
            `${problems.length} problem${problems.length === 1 ? '' : 's'}: open to see ${problems.length === 1 ? 'it' : 'them'}`,
          )
        : null,
    );
  }

  function globalsGroup() {
    const applying = global.plugins.filter((i) => i.enabled !== false);
    return h(
      'section',
      { class: `flow-group globals${applying.length ? '' : ' empty'}`, 'aria-labelledby': 'globals-title' },
      h(
        'div',
        { class: 'group-head' },
        h('h2', { id: 'globals-title' }, 'Global plugins'),
        h('a', { href: '#/global', class: 'small-link' }, 'Edit global plugins'),
      ),
      applying.length === 0 ? h('p', { class: 'muted' }, "None enabled: only this route's plugins run.") : null,
      applying.map((instance) => {
        const info = pluginInfo(instance.plugin);
        const replaced = draft.plugins.some((i) => i.plugin === instance.plugin);
        const summary = summaries.get(summaryKey(instance, true));
        const sink = info?.steps.includes('sink');
        return h(
          'article',
          { class: `box global-box${replaced ? ' replaced' : ''}` },
          h('h3', { class: 'box-title' }, info?.name ?? instance.plugin),
          h(
            'p',
            { class: 'box-steps' },
            (info?.steps ?? []).map((s) => h('span', { class: 'step-tag' }, s)),
          ),
          h('p', { class: 'box-summary' }, summary?.summary ?? info?.description ?? ''),
          h('p', { class: 'box-scope' }, pathScope(instance, Boolean(sink))),
          replaced ? h('p', { class: 'box-note' }, "Replaced here by this route's own instance.") : null,
        );
      }),
    );
  }

  function pluginBox(instance: Instance, step: string) {
    const info = pluginInfo(instance.plugin);
    const name = nameOf(instance);
    const key = keyOf(instance);
    const index = draft.plugins.indexOf(instance);
    const first = info?.steps.find((s) => ROUTE_STEPS.includes(s)) === step;
    const enabled = instance.enabled !== false;
    const summary = summaries.get(summaryKey(instance, false));
    const problems = [...(errors.get(key) ?? []), ...(summary?.problems ?? [])];
    const state = `${enabled ? '' : ' disabled'}${problems.length ? ' invalid' : ''}`;
    if (!first) {
      return h(
        'article',
        {
          class: `box plugin-box continued${state}`,
          dataset: { box: key, continued: 'true' },
          onclick: boxClick(() => openPlugin(instance)),
        },
        h(
          'h4',
          { class: 'box-title' },
          h('span', { class: 'order' }, `#${index + 1}`),
          ' ',
          h(
            'button',
            {
              type: 'button',
              class: 'box-open',
              'aria-haspopup': 'dialog',
              'aria-label': `${name} (also runs in ${step})`,
            },
            name,
          ),
        ),
        h('p', { class: 'box-note' }, 'The same instance, also in this step.'),
      );
    }
    const toggle = h('input', {
      type: 'checkbox',
      id: nextId('enabled'),
      checked: enabled,
      onchange: () => {
        instance.enabled = toggle.checked;
        changed();
        toast(`${name} ${toggle.checked ? 'enabled' : 'disabled'} (not saved yet)`);
        (flow.querySelector(`[data-box="${CSS.escape(key)}"] input[type=checkbox]`) as HTMLElement | null)?.focus();
      },
    });
    const earlier = neighbour(index, -1) !== -1;
    const later = neighbour(index, 1) !== -1;
    return h(
      'article',
      {
        class: `box plugin-box${state}`,
        dataset: { box: key, plugin: instance.plugin },
        onclick: boxClick(() => openPlugin(instance)),
        onkeydown: (e: KeyboardEvent) => {
          if (!e.altKey || !['ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight'].includes(e.key)) return;
          e.preventDefault();
          move(instance, e.key === 'ArrowUp' || e.key === 'ArrowLeft' ? -1 : 1);
        },
      },
      h(
        'h4',
        { class: 'box-title' },
        h(
          'span',
          { class: 'order', title: "Position in the route's plugin list: the run order within each step" },
          `#${index + 1}`,
        ),
        ' ',
        h('button', { type: 'button', class: 'box-open', 'aria-haspopup': 'dialog' }, name),
        enabled ? null : h('span', { class: 'badge badge-off' }, 'disabled'),
      ),
      h(
        'p',
        { class: 'box-steps' },
        (info?.steps ?? []).map((s) => h('span', { class: 'step-tag' }, s)),
      ),
      h('p', { class: 'box-summary' }, summary?.summary ?? (summary ? '' : (info?.description ?? 'Unknown plugin'))),
      instance.include?.length || instance.exclude?.length
        ? h('p', { class: 'box-scope' }, pathScope(instance, false))
        : null,
      problems.length
        ? h(
            'p',
            { class: 'box-problems' },
            `${problems.length} problem${problems.length === 1 ? '' : 's'}: ${problems
              .slice(0, 2)
              .map((p) => p.message)
              .join('; ')}`,
          )
        : null,
      h(
        'div',
        { class: 'box-controls' },
        h('span', { class: 'field inline' }, toggle, h('label', { for: toggle.id }, 'Enabled')),
        h(
          'button',
          {
            type: 'button',
            class: 'small',
            disabled: !earlier,
            'aria-label': `Move ${name} earlier`,
            onclick: () => move(instance, -1),
          },
          '↑ Earlier',
        ),
        h(
          'button',
          {
            type: 'button',
            class: 'small',
            disabled: !later,
            'aria-label': `Move ${name} later`,
            onclick: () => move(instance, 1),
          },
          '↓ Later',
        ),
        h(
          'button',
          {
            type: 'button',
            class: 'small danger',
            'aria-label': `Remove ${name}`,
            onclick: () => {
              draft.plugins.splice(draft.plugins.indexOf(instance), 1);
              errors.delete(key);
              changed();
              toast(`${name} removed (not saved yet)`);
              (flow.querySelector('[data-opens="catalog"]') as HTMLElement | null)?.focus();
            },
          },
          'Remove',
        ),
      ),
    );
  }

  // ── side panels ──────────────────────────────────────────────────────────────────────────
  function openCoreBox(key: string) {
    if (key === 'route') {
      const hide = ['/frontend', '/backend', '/plugins', ...(isNew ? [] : ['/id'])];
      return formPanel(
        key,
        'Route',
        'Its name and id, whether it is enabled, its tags (API keys can be authorized for tag:<name>).',
        routeSchema,
        draft,
        hide,
        (value) => {
          for (const name of Object.keys(routeSchema.properties as JsonObject)) {
            if (META.has(name) || hide.includes(`/${name}`)) continue;
            if (value[name] === undefined) delete draft[name];
            else draft[name] = value[name];
          }
        },
      );
    }
    const schema = routeSchema.properties?.[key] as JsonSchema;
    if (key === 'frontend') {
      return formPanel(
        key,
        'Frontend',
        'Which requests this route answers: hosts with an optional path prefix, methods, required headers.',
        schema,
        draft.frontend,
        [],
        (value) => {
          draft.frontend = value as Frontend;
        },
      );
    }
    return formPanel(
      key,
      'Backend',
      'Where matching requests go: targets shared by weight (weighted round robin), timeouts.',
      schema,
      draft.backend ?? { targets: [{ url: '', weight: 1 }] },
      [],
      (value) => {
        draft.backend = value as Backend;
      },
    );
  }

  function openPlugin(instance: Instance) {
    const info = pluginInfo(instance.plugin);
    if (!info) return;
    const instanceSchema = routeSchema.properties?.plugins?.items as JsonSchema;
    const props = instanceSchema.properties as Record<string, JsonSchema>;
    const schema: JsonSchema = {
      type: 'object',
      required: ['enabled', 'config', 'include', 'exclude'],
      properties: {
        enabled: props.enabled as JsonSchema,
        config: { ...info.configSchema, title: 'Configuration', description: undefined },
        include: { ...(props.include as JsonSchema), title: 'Only on paths (regular expressions)' },
        exclude: { ...(props.exclude as JsonSchema), title: 'Not on paths (regular expressions)' },
      },
    };
    const value = {
      enabled: instance.enabled ?? true,
      config: instance.config ?? {},
      include: instance.include ?? [],
      exclude: instance.exclude ?? [],
    };
    const hasStoredSecret = Boolean(stored?.plugins.some((p) => p.plugin === instance.plugin));
    formPanel(
      keyOf(instance),
      info.name,
      `${info.description} Runs in: ${info.steps.join(', ')}.`,
      schema,
      value,
      [],
      (read) => {
        for (const k of Object.keys(instance)) if (k !== 'plugin') delete (instance as Record<string, unknown>)[k];
        Object.assign(instance, read);
      },
      { stored: hasStoredSecret },
    );
  }

  /**
   * A side panel with a form drawn from `schema`: every change goes to the draft at once (and the
   * boxes are redrawn), the last save's errors show beside their fields.
   */
  function formPanel(
    key: string,
    heading: string,
    intro: string,
    schema: JsonSchema,
    value: unknown,
    hide: string[],
    apply: (value: JsonObject) => void,
    extra: import('./form.js').FormOptions | undefined = {},
  ) {
    const family = key.startsWith('plugin-') ? 'plugin' : key;
    const form = schemaForm(schema, value, {
      hide,
      optionalObjects: ['/tls', '/targets/*/tls'],
      advanced: (path, fieldSchema) =>
        ADVANCED.has(`${family}:${path}`) || (fieldSchema as Record<string, unknown>)['x-advanced'] === true,
      ...extra,
    });
    const update = () => {
      const read = form.read() as JsonObject;
      delete read.version;
      apply(read);
      changed();
    };
    form.element.addEventListener('input', update);
    form.element.addEventListener('change', update);
    // Buttons that add or remove list items change the value without an input event.
    form.element.addEventListener('click', (e) => {
      if ((e.target as HTMLElement).closest('button')) queueMicrotask(update);
    });
    openSidePanel({
      host: root,
      opener: key,
      title: heading,
      body: [
        h('p', { class: 'hint' }, intro),
        form.element,
        h(
          'p',
          { class: 'hint' },
          'Changes go to the draft as you type; nothing is saved until you review and save the route.',
        ),
      ],
      onClose: () => focusBox(key),
    });
    const problems = errors.get(key);
    if (problems?.length) form.showErrors(problems, 'The last save was refused: see the fields below.');
    if (key === 'frontend') {
      frontendForm = form.element;
      placeWarnings(form.element, drafted.warnings, '/frontend');
    }
  }

  function openCatalog() {
    const search = h('input', { type: 'search', id: nextId('catalog-search'), autocomplete: 'off' });
    const list = h('ul', { class: 'catalog' });
    const drawList = () => {
      const q = search.value.trim().toLowerCase();
      const offered = catalog.filter(
        (p) =>
          !p.globalOnly &&
          !draft.plugins.some((i) => i.plugin === p.id) &&
          (!q || `${p.id} ${p.name} ${p.description}`.toLowerCase().includes(q)),
      );
      list.replaceChildren(
        ...(offered.length
          ? offered.map((p) =>
              h(
                'li',
                { class: 'catalog-item' },
                h(
                  'div',
                  {},
                  h('strong', {}, p.name),
                  ' ',
                  h('code', {}, p.id),
                  h('p', { class: 'hint' }, p.description),
                  h(
                    'p',
                    { class: 'box-steps' },
                    p.steps.map((s) => h('span', { class: 'step-tag' }, s)),
                  ),
                ),
                h(
                  'button',
                  {
                    type: 'button',
                    class: 'small primary',
                    'aria-label': `Add ${p.name}`,
                    onclick: () => {
                      const instance: Instance = { plugin: p.id, enabled: true, include: [], exclude: [], config: {} };
                      draft.plugins.push(instance);
                      changed();
                      toast(`${p.name} added (not saved yet)`);
                      closeSidePanel(false);
                      openPlugin(instance);
                    },
                  },
                  'Add',
                ),
              ),
            )
          : [h('li', { class: 'muted' }, q ? 'No plugin matches.' : 'Every route plugin is already on this route.')]),
      );
    };
    search.addEventListener('input', drawList);
    drawList();
    openSidePanel({
      host: root,
      opener: 'catalog',
      title: 'Add a plugin',
      body: [
        h('div', { class: 'field' }, h('label', { for: search.id }, 'Search plugins'), search),
        list,
        h('p', { class: 'hint' }, 'Global-only plugins (token endpoints) are enabled in Global plugins.'),
      ],
      onClose: () => (root.querySelector('[data-opens="catalog"]') as HTMLElement | null)?.focus(),
    });
  }

  function openTester() {
    if (!stored) return;
    const dirty = diffLines().some((l) => l.kind !== ' ');
    openSidePanel({
      host: root,
      opener: 'tester',
      title: 'Request tester',
      wide: true,
      body: [
        dirty
          ? h('p', { class: 'warn-note' }, 'The tester runs the saved route: your unsaved changes are not part of it.')
          : null,
        requestTesterPanel(client, stored),
      ],
      onClose: () => testButton.focus(),
    });
  }

  // ── review and save ──────────────────────────────────────────────────────────────────────
  function review() {
    const lines = diffLines();
    const { added, removed } = diffStats(lines);
    const save = h('button', { type: 'button', class: 'primary' }, isNew ? 'Create route' : 'Save route');
    const dialog = h(
      'dialog',
      { class: 'diff-dialog', 'aria-labelledby': 'diff-title' },
      h('h2', { id: 'diff-title' }, isNew ? 'Review the new route' : 'Review changes'),
      h('p', { class: 'diff-stats' }, `${added} line${added === 1 ? '' : 's'} added, ${removed} removed.`),
      added + removed === 0 ? h('p', { class: 'muted' }, 'Nothing changed.') : diffView(lines),
      h(
        'div',
        { class: 'form-actions' },
        save,
        h('button', { type: 'button', onclick: () => dialog.close() }, 'Keep editing'),
      ),
    );
    save.disabled = added + removed === 0;
    dialog.addEventListener('close', () => {
      dialog.remove();
      reviewButton.focus();
    });
    save.addEventListener('click', () => void submit());
    async function submit() {
      save.disabled = true;
      const body = structuredClone(draft) as JsonObject;
      delete body.createdAt;
      delete body.updatedAt;
      if (isNew && body.id === '') delete body.id; // generated by the server
      try {
        const saved = (
          isNew
            ? await client.request('create', 'routes', { entity: body })
            : await client.request('update', 'routes', { id, entity: body })
        ) as RouteDraft;
        dialog.close();
        toast('Route saved');
        host.go(`#/routes/${encodeURIComponent(saved.id)}`);
      } catch (error) {
        dialog.close();
        refused(failure(error));
      }
    }
    root.append(dialog);
    dialog.showModal();
    save.focus();
  }

  function refused({ message, details }: { message: string; details: ErrorDetail[] }) {
    errors = new Map();
    const elsewhere: string[] = [];
    for (const detail of details) {
      const [, top, index, ...rest] = detail.path.split('/');
      let at: [string, string] | null = null;
      if (top === 'plugins' && index !== undefined && draft.plugins[Number(index)])
        at = [keyOf(draft.plugins[Number(index)] as Instance), `/${rest.join('/')}`.replace(/\/$/, '') || '/'];
      else if (top === 'frontend' || top === 'backend') at = [top, detail.path.slice(top.length + 1) || '/'];
      else if (top && top !== 'plugins') at = ['route', detail.path];
      if (at) errors.set(at[0], [...(errors.get(at[0]) ?? []), { path: at[1], message: detail.message }]);
      else elsewhere.push(`${detail.path || '/'}: ${detail.message}`);
    }
    const summary = refusalSummary('route', details, message);
    general.replaceChildren(
      h('strong', {}, summary),
      ...(elsewhere.length
        ? [
            h(
              'ul',
              {},
              elsewhere.map((e) => h('li', {}, e)),
            ),
          ]
        : []),
      ...(errors.size
        ? [h('p', {}, 'The boxes marked in red have problems; their panels show them beside the fields.')]
        : []),
    );
    general.hidden = false;
    toast(summary, 'bad');
    draw();
    const first = [...errors.keys()][0];
    if (first === undefined) return;
    const instance = draft.plugins.find((i) => keyOf(i) === first);
    if (instance) openPlugin(instance);
    else openCoreBox(first);
  }

  draw();
  refreshSummaries();
  drafted.refresh();
  if (externalChange) notice.hidden = false;
}

/**
 * A click anywhere on a box opens it, except on its own controls.
 */
function boxClick(open: () => void) {
  return (e: MouseEvent) => {
    const target = e.target as HTMLElement;
    if (target.closest('button:not(.box-open), input, label, a')) return;
    open();
  };
}

function arrow() {
  return h('span', { class: 'flow-arrow', 'aria-hidden': 'true' }, '→');
}

function facts(rows: [string, string][]) {
  return h(
    'dl',
    { class: 'box-facts' },
    rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
  );
}

/**
 * Where an instance runs, from its include and exclude patterns.
 */
function pathScope(instance: Instance, sink: boolean) {
  const where = sink ? 'full paths' : 'paths';
  const only = instance.include?.length
    ? `Only on ${where} ${instance.include.join(', ')}`
    : `On every ${sink ? 'request, before routing' : 'path'}`;
  return `${only}${instance.exclude?.length ? `; not on ${instance.exclude.join(', ')}` : ''}.`;
}

function routeSummary(route: RouteDraft) {
  if (route.enabled === false) return 'Disabled: matches nothing.';
  return `Enabled${route.tags?.length ? `, tagged ${route.tags.join(', ')}` : ''}${route.mode === 'authorizer' ? '; authorizer mode: no backend, an ingress asks the authorizer listener' : ''}.`;
}

function frontendSummary(frontend: Frontend) {
  if (frontend.domains.length === 0) return 'Answers nothing yet: add a domain (e.g. api.example.com/orders).';
  const methods = frontend.methods?.length ? frontend.methods.join(', ') : 'any method';
  const headers = Object.keys(frontend.headers ?? {});
  const prefix = frontend.domains.some((d) => d.includes('/'))
    ? frontend.stripPath === false
      ? '; prefix kept'
      : '; prefix removed before forwarding'
    : '';
  return `Answers ${frontend.domains.join(', ')} for ${methods}${headers.length ? `, with header ${headers.join(', ')}` : ''}${prefix}.`;
}

function backendSummary(route: RouteDraft) {
  const backend = route.backend;
  if (!backend)
    return route.mode === 'authorizer'
      ? 'None: the ingress serves allowed requests itself.'
      : 'None yet: add a target.';
  const n = backend.targets.length;
  const weights = n > 1 ? ` shared ${backend.targets.map((t) => t.weight ?? 1).join(':')}` : '';
  const t = backend.timeouts ?? {};
  const s = (ms: number | undefined, fallback: number) => `${(ms ?? fallback) / 1000} s`;
  return `Forwards to ${n} target${n === 1 ? '' : 's'}${weights}; timeouts: connect ${s(t.connectMs, 5000)}, headers ${s(t.headersMs, 30_000)}, body ${s(t.bodyMs, 60_000)}.`;
}

/**
 * The route as compared before saving: without what the store sets.
 */
function withoutMeta(route: JsonObject) {
  return Object.fromEntries(Object.entries(route).filter(([k]) => !META.has(k)));
}
