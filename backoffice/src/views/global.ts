// The global plugins screen: one card per plugin of the catalog, enabled globally or not, with its
// path filters, its configuration and the warnings the server finds in it (a fix is one click).
import { failure } from '../client.js';
import { h, toast, codeBlock } from '../dom.js';
import { schemaForm, PATH_FILTER_HINT } from '../form.js';
import { applyFix, fixableNote, instanceWarnings, placeWarnings, type ConfigWarning } from '../warnings.js';
import { refusalSummary } from '../refusal.js';

import type { PluginInfo } from '../form.js';
import type { GlobalConfig, PluginInstance } from '../shapes.js';
import type { ViewContext } from './context.js';

type GlobalInstance = PluginInstance;

/** One plugin's card: its state and the fields a save reads. */
type Card = {
  plugin: PluginInfo;
  global: GlobalConfig;
  instance: GlobalInstance | undefined;
  toggle: HTMLInputElement;
  include: HTMLTextAreaElement;
  exclude: HTMLTextAreaElement;
  form: ReturnType<typeof schemaForm>;
};

export async function globalView(ctx: ViewContext) {
  ctx.screen.entities = ['global-config'];
  const draw = async () => {
    const [global, warnings] = await Promise.all([
      ctx.client.request('get', 'global-config'),
      ctx.client.request('get', 'warnings') as Promise<ConfigWarning[]>,
    ]);
    const globalWarnings = warnings.filter((w) => w.kind === 'global-config');
    const cards = ctx.catalog.map((plugin) => pluginCard(ctx, plugin, global, globalWarnings));
    ctx.page(
      'Global plugins',
      [],
      h(
        'p',
        { class: 'muted' },
        'Global plugins run on every route (sinks before routing); a route can override one with its own instance.',
      ),
      ...cards,
    );
  };
  ctx.screen.refresh = draw;
  await draw();
}

function pluginCard(ctx: ViewContext, plugin: PluginInfo, global: GlobalConfig, warnings: ConfigWarning[]) {
  const instance = global.plugins.find((p) => p.plugin === plugin.id);
  const concerns = instanceWarnings(warnings, instance ? global.plugins.indexOf(instance) : -1);
  const card: Card = {
    plugin,
    global,
    instance,
    toggle: h('input', {
      type: 'checkbox',
      id: `enable-${plugin.id}`,
      checked: Boolean(instance && instance.enabled !== false),
    }),
    include: h('textarea', { rows: 1, id: `include-${plugin.id}` }, (instance?.include ?? []).join('\n')),
    exclude: h('textarea', { rows: 1, id: `exclude-${plugin.id}` }, (instance?.exclude ?? []).join('\n')),
    form: schemaForm(plugin.configSchema, instance?.config ?? {}, {}),
  };
  if (instance) placeWarnings(card.form.element, concerns, `/plugins/${global.plugins.indexOf(instance)}/config`);
  // A warning's fix (turn `secure` off on a plain-HTTP gateway) is one click: the patch, saved.
  const fixIt = async (fix: NonNullable<ConfigWarning['fix']>) => {
    try {
      await ctx.client.request('update', 'global-config', { entity: applyFix(global, fix) });
      toast(`${plugin.name}: ${fix.label.toLowerCase()}, saved`);
    } catch (error) {
      toast(failure(error).message, 'bad');
    }
  };
  const save = () => saveCard(ctx, card);
  card.toggle.addEventListener('change', () => void save());
  return h(
    'section',
    { class: 'card', 'aria-labelledby': `title-${plugin.id}` },
    h(
      'div',
      { class: 'card-head' },
      h('h2', { id: `title-${plugin.id}` }, plugin.name, h('span', { class: 'muted' }, ` ${plugin.id}`)),
      h('div', { class: 'field inline' }, card.toggle, h('label', { for: `enable-${plugin.id}` }, 'Enabled globally')),
    ),
    h('p', {}, plugin.description),
    concerns.map((w) => fixableNote(w, (fix) => void fixIt(fix))),
    h('p', { class: 'muted' }, `Steps: ${plugin.steps.join(', ')}`),
    configurationDetails(card, save),
  );
}

/** The card's folded part: path filters, the configuration form, the defaults, the save button. */
function configurationDetails({ plugin, include, exclude, form }: Card, save: () => unknown) {
  return h(
    'details',
    {},
    h('summary', {}, 'Configuration'),
    h(
      'div',
      { class: 'field' },
      h('label', { for: `include-${plugin.id}` }, 'Only on paths (regular expressions, one per line)'),
      include,
    ),
    h(
      'div',
      { class: 'field' },
      h('label', { for: `exclude-${plugin.id}` }, 'Not on paths (regular expressions, one per line)'),
      exclude,
    ),
    h('p', { class: 'hint' }, `${PATH_FILTER_HINT} Sinks, which answer before routing, see the full path.`),
    form.element,
    h(
      'details',
      {},
      h('summary', {}, 'Default configuration'),
      codeBlock(JSON.stringify(plugin.defaultConfig, null, 2), `Default configuration of ${plugin.name}`),
    ),
    h('button', { type: 'button', class: 'primary', onclick: save }, 'Save configuration'),
  );
}

const lines = (a: HTMLTextAreaElement) =>
  a.value
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean);

/** The global plugin list with this card's instance as its fields say (left out when never enabled). */
function nextPlugins({ plugin, global, instance, toggle, include, exclude, form }: Card): GlobalInstance[] {
  const others = global.plugins.filter((p) => p.plugin !== plugin.id);
  if (!toggle.checked && !instance) return others;
  const mine = {
    plugin: plugin.id,
    enabled: toggle.checked,
    include: lines(include),
    exclude: lines(exclude),
    config: form.read(),
  } as GlobalInstance;
  return [...others, mine];
}

async function saveCard(ctx: ViewContext, card: Card) {
  const { plugin, global, toggle, form } = card;
  const next = nextPlugins(card);
  try {
    await ctx.client.request('update', 'global-config', { entity: { plugins: next, version: global.version } });
    toast(`${plugin.name} ${toggle.checked ? 'enabled' : 'disabled'} globally`);
  } catch (error) {
    const index = next.findIndex((p) => p.plugin === plugin.id);
    const { message, details } = failure(error);
    const summary = refusalSummary('global configuration', details, message);
    form.showErrors(
      details.map((d) => ({ ...d, path: d.path.replace(`/plugins/${index}/config`, '') })),
      summary,
    );
    toast(summary, 'bad');
  }
}
