// The designer's side panels: a box's form, the plugin catalog, the request tester.
// ── side panels ──────────────────────────────────────────────────────────────────────────
import { h, toast, nextId } from '../dom.js';
import { schemaForm } from '../form.js';
import { requestTesterPanel } from '../request-tester.js';
import { openSidePanel, closeSidePanel } from '../side-panel.js';
import type { JsonSchema, JsonObject, FormOptions } from '../form.js';
import { ADVANCED, META } from './model.js';
import type { Instance, Backend, Frontend, Designer } from './model.js';
import { placeWarnings } from '../warnings.js';

export function openCoreBox(d: Designer, key: string) {
  if (key === 'route') {
    const hide = ['/frontend', '/backend', '/plugins', ...(d.isNew ? [] : ['/id'])];
    return d.formPanel(
      key,
      'Route',
      'Its name and id, whether it is enabled, its tags (API keys can be authorized for tag:<name>).',
      d.routeSchema,
      d.draft,
      hide,
      (value) => {
        for (const name of Object.keys(d.routeSchema.properties as JsonObject)) {
          if (META.has(name) || hide.includes(`/${name}`)) continue;
          if (value[name] === undefined) delete d.draft[name];
          else d.draft[name] = value[name];
        }
      },
    );
  }
  const schema = d.routeSchema.properties?.[key] as JsonSchema;
  if (key === 'frontend') {
    return d.formPanel(
      key,
      'Frontend',
      'Which requests this route answers: hosts with an optional path prefix, methods, required headers.',
      schema,
      d.draft.frontend,
      [],
      (value) => {
        d.draft.frontend = value as Frontend;
      },
    );
  }
  return d.formPanel(
    key,
    'Backend',
    'Where matching requests go: targets shared by weight (weighted round robin), timeouts.',
    schema,
    d.draft.backend ?? { targets: [{ url: '', weight: 1 }] },
    [],
    (value) => {
      d.draft.backend = value as Backend;
    },
  );
}

export function openPlugin(d: Designer, instance: Instance) {
  const info = d.pluginInfo(instance.plugin);
  if (!info) return;
  const instanceSchema = d.routeSchema.properties?.plugins?.items as JsonSchema;
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
  const hasStoredSecret = Boolean(d.stored?.plugins.some((p) => p.plugin === instance.plugin));
  d.formPanel(
    d.keyOf(instance),
    info.name,
    `${info.description} Runs in: ${info.steps.join(', ')}.`,
    schema,
    value,
    [],
    (read) => {
      for (const k of Object.keys(instance)) if (k !== 'plugin') delete (instance as Record<string, unknown>)[k];
      Object.assign(instance, read);
    },
    { stored: hasStoredSecret, choices: { '/config/verifiers': d.verifiers }, optionalObjects: ['/config/verifier'] },
  );
}

/**
 * A side panel with a form drawn from `schema`: every change goes to the draft at once (and the
 * boxes are redrawn), the last save's errors show beside their fields.
 */
export function formPanel(
  d: Designer,
  key: string,
  heading: string,
  intro: string,
  schema: JsonSchema,
  value: unknown,
  hide: string[],
  apply: (value: JsonObject) => void,
  extra: FormOptions | undefined = {},
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
    d.changed();
  };
  form.element.addEventListener('input', update);
  form.element.addEventListener('change', update);
  // Buttons that add or remove list items change the value without an input event.
  form.element.addEventListener('click', (e) => {
    if ((e.target as HTMLElement).closest('button')) queueMicrotask(update);
  });
  openSidePanel({
    host: d.root,
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
    onClose: () => d.focusBox(key),
  });
  const problems = d.errors.get(key);
  if (problems?.length) form.showErrors(problems, 'The last save was refused: see the fields below.');
  if (key === 'frontend') {
    d.frontendForm = form.element;
    placeWarnings(form.element, d.drafted.warnings, '/frontend');
  }
}

export function openCatalog(d: Designer) {
  const search = h('input', { type: 'search', id: nextId('catalog-search'), autocomplete: 'off' });
  const list = h('ul', { class: 'catalog' });
  const drawList = () => {
    const q = search.value.trim().toLowerCase();
    const offered = d.catalog.filter(
      (p) =>
        !p.globalOnly &&
        !d.draft.plugins.some((i) => i.plugin === p.id) &&
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
                    d.draft.plugins.push(instance);
                    d.changed();
                    toast(`${p.name} added (not saved yet)`);
                    closeSidePanel(false);
                    d.openPlugin(instance);
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
    host: d.root,
    opener: 'catalog',
    title: 'Add a plugin',
    body: [
      h('div', { class: 'field' }, h('label', { for: search.id }, 'Search plugins'), search),
      list,
      h('p', { class: 'hint' }, 'Global-only plugins (token endpoints) are enabled in Global plugins.'),
    ],
    onClose: () => (d.root.querySelector('[data-opens="catalog"]') as HTMLElement | null)?.focus(),
  });
}

export function openTester(d: Designer) {
  if (!d.stored) return;
  const dirty = d.diffLines().some((l) => l.kind !== ' ');
  openSidePanel({
    host: d.root,
    opener: 'tester',
    title: 'Request tester',
    wide: true,
    body: [
      dirty
        ? h('p', { class: 'warn-note' }, 'The tester runs the saved route: your unsaved changes are not part of it.')
        : null,
      requestTesterPanel(d.client, d.stored),
    ],
    onClose: () => d.testButton.focus(),
  });
}
