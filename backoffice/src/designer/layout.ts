// The designer's layout: the route's request path drawn left to right, one box per part.
import { h } from '../dom.js';
import { diffStats } from '../json-diff.js';
import type { Child } from '../dom.js';
import { boxClick, pathScope } from './box-helpers.js';
import { ROUTE_STEPS, STEP_HELP } from './model.js';
import type { Frontend, RouteDraft, Designer } from './model.js';
import { warningNote } from '../warnings.js';

/** Redraw the whole flow from the draft: the changes line, the route strip and every box. */
export function draw(d: Designer) {
  const lines = d.diffLines();
  const { added, removed } = diffStats(lines);
  d.changes.textContent =
    added + removed === 0
      ? d.isNew
        ? 'A new route: fill in its boxes, then review and create it.'
        : 'No unsaved changes.'
      : `Unsaved changes: ${added} line${added === 1 ? '' : 's'} added, ${removed} removed.`;
  d.discardButton.disabled = added + removed === 0 || d.isNew;
  d.routeStrip.replaceChildren(
    d.coreBox('route', 'Route', routeSummary(d.draft), [
      h('strong', {}, d.draft.name || 'no name yet'),
      h('span', { class: 'muted box-id' }, d.draft.id ? `id ${d.draft.id}` : 'id generated on create'),
    ]),
  );
  d.flow.replaceChildren(
    frontendBox(d),
    arrow(),
    d.globalsGroup(),
    arrow(),
    routePluginsGroup(d),
    arrow(),
    backendBox(d),
  );
}

function frontendBox(d: Designer) {
  const frontend = d.draft.frontend;
  return d.coreBox('frontend', 'Frontend', frontendSummary(frontend), [
    facts([
      ['Domains', frontend.domains.join(', ') || '—'],
      ['Methods', (frontend.methods ?? []).join(', ') || 'any'],
      [
        'Headers',
        Object.entries(frontend.headers ?? {})
          .map(([k, v]) => `${k}: ${v}`)
          .join(', ') || 'none required',
      ],
    ]),
    ...d.drafted.warnings.filter((w) => w.path.startsWith('/frontend/')).map((w) => warningNote(w)),
  ]);
}

/** The route's plugins, one column per step in the order the request meets them. */
function routePluginsGroup(d: Designer) {
  const routeSteps = ROUTE_STEPS.map((step) => ({
    step,
    instances: d.draft.plugins.filter((i) => d.pluginInfo(i.plugin)?.steps.includes(step)),
  }));
  return h(
    'section',
    { class: 'flow-group route-plugins', 'aria-labelledby': 'route-plugins-title' },
    h(
      'div',
      { class: 'group-head' },
      h('h2', { id: 'route-plugins-title' }, 'Route plugins'),
      h(
        'button',
        { type: 'button', class: 'small primary', dataset: { opens: 'catalog' }, onclick: () => d.openCatalog() },
        'Add plugin',
      ),
    ),
    d.draft.plugins.length === 0
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
            ? instances.map((instance) => d.pluginBox(instance, step))
            : h('p', { class: 'muted step-empty' }, 'nothing'),
        ),
      ),
    ),
  );
}

function backendBox(d: Designer) {
  return d.coreBox(
    'backend',
    'Backend',
    backendSummary(d.draft),
    d.draft.backend
      ? [
          h(
            'ul',
            { class: 'targets' },
            d.draft.backend.targets.map((t) =>
              h('li', {}, h('code', {}, t.url || '(no URL)'), ` weight ${t.weight ?? 1}`),
            ),
          ),
        ]
      : [],
  );
}

export function coreBox(d: Designer, key: string, label: string, summary: string, body: Child) {
  const problems = d.errors.get(key) ?? [];
  return h(
    'article',
    {
      class: `box core-box${problems.length ? ' invalid' : ''}`,
      dataset: { box: key },
      onclick: boxClick(() => d.openCoreBox(key)),
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

export function globalsGroup(d: Designer) {
  const applying = d.global.plugins.filter((i) => i.enabled !== false);
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
      const info = d.pluginInfo(instance.plugin);
      const replaced = d.draft.plugins.some((i) => i.plugin === instance.plugin);
      const summary = d.summaries.get(d.summaryKey(instance, true));
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

export function arrow() {
  return h('span', { class: 'flow-arrow', 'aria-hidden': 'true' }, '→');
}

export function facts(rows: [string, string][]) {
  return h(
    'dl',
    { class: 'box-facts' },
    rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
  );
}

export function routeSummary(route: RouteDraft) {
  if (route.enabled === false) return 'Disabled: matches nothing.';
  return `Enabled${route.tags?.length ? `, tagged ${route.tags.join(', ')}` : ''}${route.mode === 'authorizer' ? '; authorizer mode: no backend, an ingress asks the authorizer listener' : ''}.`;
}

export function frontendSummary(frontend: Frontend) {
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

export function backendSummary(route: RouteDraft) {
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
