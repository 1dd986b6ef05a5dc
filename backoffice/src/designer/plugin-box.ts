// One plugin instance's box: its line (the plugin's own summary), its problems and its controls
// (enable, move with buttons or Alt+arrows, remove).
import { h, toast, nextId } from '../dom.js';
import { boxClick, pathScope } from './box-helpers.js';
import { ROUTE_STEPS } from './model.js';
import type { Instance, Designer } from './model.js';

/** What a plugin box shows about its instance. */
interface BoxFacts {
  instance: Instance;
  name: string;
  key: string;
  index: number;
  state: string;
}

export function pluginBox(d: Designer, instance: Instance, step: string) {
  const info = d.pluginInfo(instance.plugin);
  const key = d.keyOf(instance);
  const summary = d.summaries.get(d.summaryKey(instance, false));
  const problems = [...(d.errors.get(key) ?? []), ...(summary?.problems ?? [])];
  const enabled = instance.enabled !== false;
  const facts: BoxFacts = {
    instance,
    name: d.nameOf(instance),
    key,
    index: d.draft.plugins.indexOf(instance),
    state: `${enabled ? '' : ' disabled'}${problems.length ? ' invalid' : ''}`,
  };
  // An instance running in several steps is drawn in full in its first one only
  if (info?.steps.find((s) => ROUTE_STEPS.includes(s)) !== step) return continuedBox(d, facts, step);
  return h(
    'article',
    {
      class: `box plugin-box${facts.state}`,
      dataset: { box: key, plugin: instance.plugin },
      onclick: boxClick(() => d.openPlugin(instance)),
      onkeydown: (e: KeyboardEvent) => {
        if (!e.altKey || !['ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight'].includes(e.key)) return;
        e.preventDefault();
        d.move(instance, e.key === 'ArrowUp' || e.key === 'ArrowLeft' ? -1 : 1);
      },
    },
    h(
      'h4',
      { class: 'box-title' },
      h(
        'span',
        { class: 'order', title: "Position in the route's plugin list: the run order within each step" },
        `#${facts.index + 1}`,
      ),
      ' ',
      h('button', { type: 'button', class: 'box-open', 'aria-haspopup': 'dialog' }, facts.name),
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
    problems.length ? problemsLine(problems) : null,
    boxControls(d, facts),
  );
}

/** The box of an instance in a step after its first: a pointer to the full box. */
function continuedBox(d: Designer, { instance, name, key, index, state }: BoxFacts, step: string) {
  return h(
    'article',
    {
      class: `box plugin-box continued${state}`,
      dataset: { box: key, continued: 'true' },
      onclick: boxClick(() => d.openPlugin(instance)),
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

function problemsLine(problems: { message: string }[]) {
  return h(
    'p',
    { class: 'box-problems' },
    `${problems.length} problem${problems.length === 1 ? '' : 's'}: ${problems
      .slice(0, 2)
      .map((p) => p.message)
      .join('; ')}`,
  );
}

/** Enable, move earlier or later, remove: each changes the draft only. */
function boxControls(d: Designer, { instance, name, key, index }: BoxFacts) {
  const toggle = h('input', {
    type: 'checkbox',
    id: nextId('enabled'),
    checked: instance.enabled !== false,
    onchange: () => {
      instance.enabled = toggle.checked;
      d.changed();
      toast(`${name} ${toggle.checked ? 'enabled' : 'disabled'} (not saved yet)`);
      (d.flow.querySelector(`[data-box="${CSS.escape(key)}"] input[type=checkbox]`) as HTMLElement | null)?.focus();
    },
  });
  const moveButton = (direction: -1 | 1) =>
    h(
      'button',
      {
        type: 'button',
        class: 'small',
        disabled: d.neighbour(index, direction) === -1,
        'aria-label': `Move ${name} ${direction < 0 ? 'earlier' : 'later'}`,
        onclick: () => d.move(instance, direction),
      },
      direction < 0 ? '↑ Earlier' : '↓ Later',
    );
  const remove = () => {
    d.draft.plugins.splice(d.draft.plugins.indexOf(instance), 1);
    d.errors.delete(key);
    d.changed();
    toast(`${name} removed (not saved yet)`);
    (d.flow.querySelector('[data-opens="catalog"]') as HTMLElement | null)?.focus();
  };
  return h(
    'div',
    { class: 'box-controls' },
    h('span', { class: 'field inline' }, toggle, h('label', { for: toggle.id }, 'Enabled')),
    moveButton(-1),
    moveButton(1),
    h('button', { type: 'button', class: 'small danger', 'aria-label': `Remove ${name}`, onclick: remove }, 'Remove'),
  );
}
