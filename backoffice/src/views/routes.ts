// The routes screen: the list, the designer for one route, and the route as one long form
// ("Edit as form") with the request tester below it.
import { failure } from '../client.js';
import { h, toast } from '../dom.js';
import { requestTesterPanel } from '../request-tester.js';
import { routeDesigner } from '../designer.js';
import { verifierChoices } from '../choices.js';
import { editor, searchBox, shownOnceDialog, table } from './common.js';

import type { PluginInfo } from '../form.js';
import type { Route } from '../shapes.js';
import type { ViewContext } from './context.js';

/**
 * @param sub `form`: the route as one long form ("Edit as form"); otherwise the designer
 */
export async function routesView(ctx: ViewContext, id?: string, sub?: string) {
  ctx.screen.entities = ['routes'];
  if (id && sub === 'form') return routeEditor(ctx, id);
  if (id) {
    ctx.screen.entities = ['routes', 'global-config'];
    const { client, catalog, view, go } = ctx;
    const routeSchema = ctx.schemas.routes?.schema ?? {};
    const onExternalChange = (refresh: () => unknown) => {
      ctx.screen.refresh = refresh;
    };
    return routeDesigner({ client, catalog, routeSchema, view, go, onExternalChange }, id);
  }
  return routeList(ctx);
}

function routeRow(r: Route) {
  return h(
    'tr',
    {},
    h('th', { scope: 'row' }, h('a', { href: `#/routes/${encodeURIComponent(r.id)}` }, r.name)),
    h('td', {}, r.frontend.domains.join(', ')),
    h('td', {}, r.backend ? r.backend.targets.map((t) => t.url).join(', ') : '(authorizer only)'),
    h('td', {}, r.plugins.map((p) => p.plugin).join(' → ') || '—'),
    h('td', {}, r.enabled ? 'enabled' : 'disabled'),
  );
}

async function routeList(ctx: ViewContext) {
  const list = h('div', {});
  let filter = '';
  const draw = async () => {
    const routesList = await ctx.client.request('list', 'routes');
    const rows = routesList
      .filter(
        (r) => !filter || JSON.stringify([r.id, r.name, r.frontend.domains, r.tags]).toLowerCase().includes(filter),
      )
      .map(routeRow);
    list.replaceChildren(table(['Name', 'Domains', 'Targets', 'Plugins', 'State'], rows, 'No routes yet.'));
  };
  ctx.screen.refresh = draw;
  ctx.page(
    'Routes',
    [
      searchBox('Search routes', (v) => {
        filter = v;
        void draw();
      }),
      h('a', { href: '#/routes/new', class: 'button primary' }, 'New route'),
    ],
    list,
  );
  await draw();
}

function deleteRouteButton(ctx: ViewContext, route: Route) {
  const remove = async () => {
    if (!confirm(`Delete the route ${route.name}?`)) return;
    await ctx.client.request('delete', 'routes', { id: route.id });
    toast('Route deleted');
    location.hash = '#/routes';
  };
  return h('button', { type: 'button', class: 'danger', onclick: remove }, 'Delete');
}

async function routeEditor(ctx: ViewContext, id: string) {
  const { client, catalog } = ctx;
  const isNew = id === 'new';
  const entity = isNew
    ? {
        name: '',
        frontend: { domains: [] },
        backend: { targets: [{ url: 'http://127.0.0.1:3000', weight: 1 }] },
        plugins: [],
      }
    : await client.request('get', 'routes', { id });
  const verifiers = await client.request('list', 'jwt-verifiers');
  const del = isNew ? null : deleteRouteButton(ctx, entity as Route);
  // The oauth2 plugin's provision key is rotated by an action of the route (a new one shown once)
  const writeOnlyActions = (path: string) => {
    const index = /^\/plugins\/(\d+)\/config\//.exec(path)?.[1];
    return !isNew && index !== undefined && entity.plugins[Number(index)]?.plugin === 'oauth2'
      ? h('button', { type: 'button', onclick: () => rotateProvisionKey(ctx, entity as Route) }, 'Rotate provision key')
      : null;
  };
  const designer = h('a', { href: `#/routes/${encodeURIComponent(id)}`, class: 'button' }, 'Open in designer');
  ctx.page(
    isNew ? 'New route' : `Route: ${entity.name}`,
    [designer, del],
    editor(ctx, 'routes', entity, {
      isNew,
      onSaved: (saved: Route) => ctx.go(`#/routes/${encodeURIComponent(saved.id)}/form`),
      options: {
        stored: !isNew,
        writeOnlyActions,
        choices: { '/plugins/*/config/verifiers': verifierChoices(verifiers) },
        // jwt-verifier's inline verifier is optional: unchecked, none is sent (its empty lists would be refused)
        optionalObjects: ['/backend/tls', '/backend/targets/*/tls', '/plugins/*/config/verifier'],
        newItem: (path) => (path === '/plugins' ? { plugin: (catalog[0] as PluginInfo).id } : {}),
      },
    }),
    ...(isNew ? [] : [requestTesterPanel(client, entity as Route)]),
  );
}

/**
 * A new provision key for the route's `oauth2` plugin, shown once. The editor is drawn again from
 * the server afterwards: the form held the old key's digest and version, which a save must not send.
 */
async function rotateProvisionKey(ctx: ViewContext, route: Route) {
  if (
    !confirm(
      `Rotate the provision key of ${route.name}? The current key stops working at once: the provider's web app needs the new one. Unsaved changes in this form are discarded.`,
    )
  )
    return;
  try {
    const rotated = (await ctx.client.request('action', 'routes', {
      id: route.id,
      action: 'plugins/oauth2/provision-key',
    })) as { provisionKey: string };
    shownOnceDialog(
      'Provision key',
      `This is the only time the new provision key of ${route.name} is shown. Copy it now into the provider's web app configuration.`,
      rotated.provisionKey,
      'provision-key',
    );
    ctx.go(`#/routes/${encodeURIComponent(route.id)}/form`);
  } catch (error) {
    toast(failure(error).message, 'bad');
  }
}
