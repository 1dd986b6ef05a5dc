// The back office app: hash routes, one view at a time, data over the WebSocket, live updates. The
// screens live in views/, one module each; this shell routes to them and keeps them fresh.
import { Client, failure } from './client.js';
import { h } from './dom.js';
import { dashboardView, onTraffic } from './dashboard.js';
import { routesView } from './views/routes.js';
import { globalView } from './views/global.js';
import { apiKeysView } from './views/apikeys.js';
import { grantsView } from './views/grants.js';
import { accessRequestsView } from './views/access-requests.js';
import { profilesView } from './views/profiles.js';
import { keyPairsView } from './views/key-pairs.js';
import { verifiersView } from './views/verifiers.js';
import { settingsView } from './views/settings.js';

import type { Child } from './dom.js';
import type { PluginInfo } from './form.js';
import type { TrafficTick } from './dashboard.js';
import type { KindSchema, Screen, View, ViewContext } from './views/context.js';

export type { KindSchema };
const client = new Client();
const view = document.getElementById('view') as HTMLElement;
const status = document.getElementById('status') as HTMLElement;
let schemas: Record<string, KindSchema> | null = null;
let catalog: PluginInfo[] = [];
let current: Screen = { refresh: () => {}, entities: [] };

client.on((message) => {
  if (message.event === 'connected') {
    status.textContent = 'live';
    status.className = 'status live';
  }
  if (message.event === 'disconnected') {
    status.textContent = 'reconnecting…';
    status.className = 'status';
  }
  if (message.event === 'changed' && (message.entity === '*' || current.entities.includes(message.entity as string)))
    scheduleRefresh();
  if (message.event === 'traffic') onTraffic(message as unknown as TrafficTick);
});
client.connect();

let refreshTimer: ReturnType<typeof setTimeout> | undefined;
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => current.refresh(), 100);
}

async function load() {
  [schemas, catalog] = (await Promise.all([client.request('get', 'schemas'), client.request('get', 'plugins')])) as [
    Record<string, KindSchema>,
    PluginInfo[],
  ];
}

const showDashboard: View = (ctx) => dashboardView(ctx.client, ctx.page);
const routes: Record<string, View> = {
  dashboard: showDashboard,
  routes: routesView,
  global: globalView,
  apikeys: apiKeysView,
  grants: grantsView,
  'access-requests': accessRequestsView,
  profiles: profilesView,
  keypairs: keyPairsView,
  verifiers: verifiersView,
  settings: settingsView,
};

async function navigate() {
  if (!schemas) await load();
  const [name = 'dashboard', id, sub] = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  for (const a of document.querySelectorAll('[data-nav]') as NodeListOf<HTMLElement>)
    a.toggleAttribute('aria-current', a.dataset.nav === name);
  const render = routes[name] ?? showDashboard;
  current = { entities: [], refresh: () => {} };
  const ctx: ViewContext = {
    client,
    schemas: schemas as Record<string, KindSchema>,
    catalog,
    view,
    screen: current,
    page,
    go,
  };
  try {
    await render(ctx, id, sub);
  } catch (error) {
    view.replaceChildren(h('p', { class: 'error' }, failure(error).message));
  }
  view.focus({ preventScroll: true });
}
window.addEventListener('hashchange', () => void navigate());
void navigate();

/** Go to `hash`, re-rendering when it is already the current one (to show what was just saved). */
function go(hash: string) {
  if (location.hash === hash) void navigate();
  else location.hash = hash;
}

function page(title: string, actions: Child, ...body: (Node | string)[]) {
  view.replaceChildren(
    h('div', { class: 'page-head' }, h('h1', {}, title), h('div', { class: 'actions' }, actions)),
    ...body,
  );
}
