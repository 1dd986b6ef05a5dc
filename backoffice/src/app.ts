// The back office app: hash routes, one view at a time, data over the WebSocket, live updates.
import { Client, failure } from './client.js';
import { h, toast, nextId, codeBlock } from './dom.js';
import { schemaForm, humanize, PATH_FILTER_HINT } from './form.js';
import { requestTesterPanel } from './request-tester.js';
import { dashboardView, onTraffic } from './dashboard.js';
import { routeDesigner } from './designer.js';
import { applyFix, fixableNote, instanceWarnings, placeWarnings, type ConfigWarning } from './warnings.js';
import { refusalSummary } from './refusal.js';
import { routeChoices, verifierChoices } from './choices.js';

import type { Child } from './dom.js';
import type { JsonSchema, JsonObject, PluginInfo, FormOptions } from './form.js';
import type { TrafficTick } from './dashboard.js';
import type {
  AccessRequest,
  ApiKey,
  AuditEvent,
  AuthorizationProfile,
  Delivery,
  GrantView,
  JwtVerifier,
  KeyPair,
  Quotas,
  RequestState,
  Route,
} from './shapes.js';
// The shapes the admin API returns, as far as the views read them.
export type KindSchema = { schema: JsonSchema; idField: string; title: string };
const client = new Client();
const view = document.getElementById('view') as HTMLElement;
const status = document.getElementById('status') as HTMLElement;
let schemas: Record<string, KindSchema> | null = null;
let catalog: PluginInfo[] = [];
let current: { name: string; refresh: () => unknown; entities: string[] } = {
  name: '',
  refresh: () => {},
  entities: [],
};

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

const routes: Record<string, (id?: string, sub?: string) => Promise<unknown>> = {
  dashboard: () => dashboardView(client, page),
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
  const render = routes[name] ?? (() => dashboardView(client, page));
  current = { name, entities: [], refresh: () => {} };
  try {
    await render(id, sub);
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

function table(columns: string[], rows: HTMLElement[], empty: string) {
  if (rows.length === 0) return h('p', { class: 'muted' }, empty);
  return h(
    'table',
    {},
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        columns.map((c) => h('th', { scope: 'col' }, c)),
      ),
    ),
    h('tbody', {}, rows),
  );
}

function searchBox(label: string, onInput: (value: string) => void) {
  const input = h('input', { type: 'search', id: nextId('search'), oninput: () => onInput(input.value.toLowerCase()) });
  return h('div', { class: 'field inline search' }, h('label', { for: input.id }, label), input);
}

/** A generic editor: schema form, save (create or update), errors beside fields. */
function editor<T>(
  kind: string,
  entity: JsonObject,
  {
    isNew,
    onSaved,
    options = {},
    extra = [],
  }: { isNew: boolean; onSaved?: (saved: T) => void; options?: FormOptions; extra?: HTMLElement[] },
) {
  const kindSchema = schemas?.[kind] as KindSchema;
  const form = schemaForm(kindSchema.schema, entity, { catalog, ...options });
  const save = h('button', { type: 'submit', class: 'primary' }, isNew ? 'Create' : 'Save');
  const el = h(
    'form',
    {
      class: 'editor',
      novalidate: true,
      onsubmit: async (e: Event) => {
        e.preventDefault();
        save.disabled = true;
        try {
          const value = form.read() as JsonObject;
          const idField = kindSchema.idField;
          if (isNew && value[idField] === '') delete value[idField]; // generated by the server
          const result = (
            isNew
              ? await client.request('create', kind, { entity: value })
              : await client.request('update', kind, { id: entity[kindSchema.idField], entity: value })
          ) as T;
          toast(`${humanize(kindSchema.title)} saved`);
          onSaved?.(result);
        } catch (error) {
          const { message, details } = failure(error);
          const summary = refusalSummary(kindSchema.title, details, message);
          form.showErrors(details, summary);
          toast(summary, 'bad');
        } finally {
          save.disabled = false;
        }
      },
    },
    form.element,
    extra,
    h(
      'div',
      { class: 'form-actions' },
      save,
      h('a', { href: `#/${location.hash.split('/')[1]}`, class: 'button' }, 'Cancel'),
    ),
  );
  return el;
}

// ── routes ───────────────────────────────────────────────────────────────────
/**
 * @param sub `form`: the route as one long form ("Edit as form"); otherwise the designer
 */
async function routesView(id?: string, sub?: string) {
  current.entities = ['routes'];
  if (id && sub === 'form') return routeEditor(id);
  if (id) {
    current.entities = ['routes', 'global-config'];
    return routeDesigner(
      {
        client,
        catalog,
        routeSchema: (schemas as Record<string, KindSchema>).routes?.schema ?? {},
        view,
        go,
        onExternalChange: (refresh) => {
          current.refresh = refresh;
        },
      },
      id,
    );
  }
  const list = h('div', {});
  let filter = '';
  const draw = async () => {
    const routesList = await client.request('list', 'routes');
    const rows = routesList
      .filter(
        (r) => !filter || JSON.stringify([r.id, r.name, r.frontend.domains, r.tags]).toLowerCase().includes(filter),
      )
      .map((r) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, h('a', { href: `#/routes/${encodeURIComponent(r.id)}` }, r.name)),
          h('td', {}, r.frontend.domains.join(', ')),
          h('td', {}, r.backend ? r.backend.targets.map((t) => t.url).join(', ') : '(authorizer only)'),
          h('td', {}, r.plugins.map((p) => p.plugin).join(' → ') || '—'),
          h('td', {}, r.enabled ? 'enabled' : 'disabled'),
        ),
      );
    list.replaceChildren(table(['Name', 'Domains', 'Targets', 'Plugins', 'State'], rows, 'No routes yet.'));
  };
  current.refresh = draw;
  page(
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

async function routeEditor(id: string) {
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
  const del = isNew
    ? null
    : h(
        'button',
        {
          type: 'button',
          class: 'danger',
          onclick: async () => {
            if (!confirm(`Delete the route ${entity.name}?`)) return;
            await client.request('delete', 'routes', { id });
            toast('Route deleted');
            location.hash = '#/routes';
          },
        },
        'Delete',
      );
  // The oauth2 plugin's provision key is rotated by an action of the route (a new one shown once)
  const writeOnlyActions = (path: string) => {
    const index = /^\/plugins\/(\d+)\/config\//.exec(path)?.[1];
    return !isNew && index !== undefined && entity.plugins[Number(index)]?.plugin === 'oauth2'
      ? h('button', { type: 'button', onclick: () => rotateProvisionKey(entity as Route) }, 'Rotate provision key')
      : null;
  };
  const designer = h('a', { href: `#/routes/${encodeURIComponent(id)}`, class: 'button' }, 'Open in designer');
  page(
    isNew ? 'New route' : `Route: ${entity.name}`,
    [designer, del],
    editor('routes', entity, {
      isNew,
      onSaved: (saved: Route) => go(`#/routes/${encodeURIComponent(saved.id)}/form`),
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
async function rotateProvisionKey(route: Route) {
  if (
    !confirm(
      `Rotate the provision key of ${route.name}? The current key stops working at once: the provider's web app needs the new one. Unsaved changes in this form are discarded.`,
    )
  )
    return;
  try {
    const rotated = (await client.request('action', 'routes', {
      id: route.id,
      action: 'plugins/oauth2/provision-key',
    })) as { provisionKey: string };
    shownOnceDialog(
      'Provision key',
      `This is the only time the new provision key of ${route.name} is shown. Copy it now into the provider's web app configuration.`,
      rotated.provisionKey,
      'provision-key',
    );
    go(`#/routes/${encodeURIComponent(route.id)}/form`);
  } catch (error) {
    toast(failure(error).message, 'bad');
  }
}

// ── global plugins ───────────────────────────────────────────────────────────
async function globalView() {
  current.entities = ['global-config'];
  const draw = async () => {
    const [global, warnings] = await Promise.all([
      client.request('get', 'global-config'),
      client.request('get', 'warnings') as Promise<ConfigWarning[]>,
    ]);
    const cards = catalog.map((plugin) => {
      const instance = global.plugins.find((p) => p.plugin === plugin.id);
      const concerns = instanceWarnings(
        warnings.filter((w) => w.kind === 'global-config'),
        instance ? global.plugins.indexOf(instance) : -1,
      );
      const toggle = h('input', {
        type: 'checkbox',
        id: `enable-${plugin.id}`,
        checked: Boolean(instance && instance.enabled !== false),
      });
      const form = schemaForm(plugin.configSchema, instance?.config ?? {}, {});
      if (instance) placeWarnings(form.element, concerns, `/plugins/${global.plugins.indexOf(instance)}/config`);
      // A warning's fix (turn `secure` off on a plain-HTTP gateway) is one click: the patch, saved.
      const fixIt = async (fix: NonNullable<ConfigWarning['fix']>) => {
        try {
          await client.request('update', 'global-config', { entity: applyFix(global, fix) });
          toast(`${plugin.name}: ${fix.label.toLowerCase()}, saved`);
        } catch (error) {
          toast(failure(error).message, 'bad');
        }
      };
      const include = h('textarea', { rows: 1, id: `include-${plugin.id}` }, (instance?.include ?? []).join('\n'));
      const exclude = h('textarea', { rows: 1, id: `exclude-${plugin.id}` }, (instance?.exclude ?? []).join('\n'));
      const save = async () => {
        const lines = (a: HTMLTextAreaElement) =>
          a.value
            .split('\n')
            .map((s) => s.trim())
            .filter(Boolean);
        const others = global.plugins.filter((p) => p.plugin !== plugin.id);
        const next =
          toggle.checked || instance
            ? [
                ...others,
                {
                  plugin: plugin.id,
                  enabled: toggle.checked,
                  include: lines(include),
                  exclude: lines(exclude),
                  config: form.read(),
                },
              ]
            : others;
        try {
          await client.request('update', 'global-config', { entity: { plugins: next, version: global.version } });
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
      };
      toggle.addEventListener('change', () => void save());
      return h(
        'section',
        { class: 'card', 'aria-labelledby': `title-${plugin.id}` },
        h(
          'div',
          { class: 'card-head' },
          h('h2', { id: `title-${plugin.id}` }, plugin.name, h('span', { class: 'muted' }, ` ${plugin.id}`)),
          h('div', { class: 'field inline' }, toggle, h('label', { for: `enable-${plugin.id}` }, 'Enabled globally')),
        ),
        h('p', {}, plugin.description),
        concerns.map((w) => fixableNote(w, (fix) => void fixIt(fix))),
        h('p', { class: 'muted' }, `Steps: ${plugin.steps.join(', ')}`),
        h(
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
        ),
      );
    });
    page(
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
  current.refresh = draw;
  await draw();
}

// ── API keys ─────────────────────────────────────────────────────────────────
async function apiKeysView(id?: string) {
  current.entities = ['apikeys', 'keypairs'];
  if (id) return apiKeyEditor(id);
  const list = h('div', {});
  let filter = '';
  const draw = async () => {
    const keys = await client.request('list', 'apikeys', { query: { limit: '1000' } });
    const rows = keys
      .filter((k) => !filter || JSON.stringify([k.clientId, k.clientName, k.tags]).toLowerCase().includes(filter))
      .map((k) => {
        const toggle = h('input', {
          type: 'checkbox',
          checked: k.enabled,
          'aria-label': `Enable ${k.clientName}`,
          onchange: async () => {
            try {
              await client.request('update', 'apikeys', { id: k.clientId, entity: { ...k, enabled: toggle.checked } });
              toast(`${k.clientName} ${toggle.checked ? 'enabled' : 'disabled'}`);
            } catch (e) {
              toast(failure(e).message, 'bad');
            }
          },
        });
        return h(
          'tr',
          {},
          h('th', { scope: 'row' }, h('a', { href: `#/apikeys/${encodeURIComponent(k.clientId)}` }, k.clientName)),
          h('td', { class: 'mono' }, k.clientId),
          h('td', {}, k.authorizedEntities.join(', ') || '—'),
          h('td', {}, k.scopes.join(' ') || '—'),
          h('td', {}, k.clientType ?? 'confidential'),
          h('td', {}, k.metadata['jwt-sign-keypair'] ?? 'default'),
          h('td', {}, toggle),
        );
      });
    list.replaceChildren(
      table(
        ['Name', 'Client id', 'Authorized', 'Scopes', 'Type', 'Signing key pair', 'Enabled'],
        rows,
        'No API keys yet.',
      ),
    );
  };
  current.refresh = draw;
  page(
    'API keys',
    [
      searchBox('Search API keys', (v) => {
        filter = v;
        void draw();
      }),
      h('a', { href: '#/apikeys/new', class: 'button primary' }, 'New API key'),
    ],
    list,
  );
  await draw();
}

/**
 * A secret the server returns once (a client secret, a provision key), with a copy button.
 */
function shownOnceDialog(title: string, explanation: string, secret: string, outputId: string) {
  const dialog = h(
    'dialog',
    { class: 'secret-dialog', 'aria-labelledby': 'secret-title' },
    h('h2', { id: 'secret-title' }, title),
    h('p', {}, explanation),
    h('output', { id: outputId, class: 'mono secret' }, secret),
    h(
      'div',
      { class: 'form-actions' },
      h(
        'button',
        {
          type: 'button',
          class: 'primary',
          onclick: async () => {
            try {
              await navigator.clipboard.writeText(secret);
              toast(`${title} copied`);
            } catch {
              toast(`Select the ${title.toLowerCase()} and copy it`, 'bad');
            }
          },
        },
        'Copy',
      ),
      h(
        'button',
        {
          type: 'button',
          onclick: () => {
            dialog.close();
            dialog.remove();
          },
        },
        'Done',
      ),
    ),
  );
  document.body.append(dialog);
  dialog.showModal();
}

function secretDialog(clientId: string, secret: string) {
  shownOnceDialog(
    'Client secret',
    `This is the only time the secret of ${clientId} is shown. Copy it now.`,
    secret,
    'client-secret',
  );
}

async function apiKeyEditor(id: string) {
  const isNew = id === 'new';
  const [entity, keyPairs, routesList] = (await Promise.all([
    isNew
      ? Promise.resolve({ clientName: '', authorizedEntities: [], scopes: [], metadata: {} })
      : client.request('get', 'apikeys', { id }),
    client.request('list', 'keypairs'),
    client.request('list', 'routes'),
  ])) as [ApiKey, KeyPair[], Route[]];
  const actions = isNew
    ? []
    : [
        h('a', { href: grantsHash({ client: entity.clientId }), class: 'button' }, 'Grants of this client'),
        // A public client has no secret (RFC 6749 §2.1): nothing to rotate.
        entity.clientType === 'public'
          ? null
          : h(
              'button',
              {
                type: 'button',
                onclick: async () => {
                  const rotated = (await client.request('action', 'apikeys', { id, action: 'rotate-secret' })) as {
                    clientId: string;
                    clientSecret: string;
                  };
                  secretDialog(rotated.clientId, rotated.clientSecret);
                },
              },
              'Rotate secret',
            ),
        h(
          'button',
          {
            type: 'button',
            class: 'danger',
            onclick: async () => {
              if (!confirm(`Delete the API key ${entity.clientName}?`)) return;
              await client.request('delete', 'apikeys', { id });
              location.hash = '#/apikeys';
            },
          },
          'Delete',
        ),
      ];
  page(
    isNew ? 'New API key' : `API key: ${entity.clientName}`,
    actions,
    editor('apikeys', entity, {
      isNew,
      // A public client has no secret: the field goes away while the type says public.
      options: {
        keyPairs,
        choices: { '/authorizedEntities': routeChoices(routesList) },
        hide: isNew ? [] : ['/clientSecret'],
        visibleWhen: { '/clientSecret': (value) => value.clientType !== 'public' },
      },
      onSaved: (saved: ApiKey) => {
        if (isNew && saved.clientSecret) secretDialog(saved.clientId, saved.clientSecret);
        go(`#/apikeys/${encodeURIComponent(saved.clientId)}`);
      },
    }),
  );
}

// ── OAuth2 grants ────────────────────────────────────────────────────────────
/**
 * The grants screen's address for a filter; the query is one hash segment, encoded once more so
 * that a user id with `/`, `&` or `=` survives.
 */
function grantsHash({ client: clientId = '', user = '' }: { client?: string; user?: string }) {
  const query = new URLSearchParams();
  if (clientId) query.set('client', clientId);
  if (user) query.set('user', user);
  const text = query.toString();
  return text ? `#/grants/${encodeURIComponent(text)}` : '#/grants';
}

const dateTime = (seconds: number) => new Date(seconds * 1000).toLocaleString();

/**
 * The `oauth2` plugin's live grants (runtime state: refreshed on demand, not pushed), filtered by
 * client and by user, with revocation of one grant or of every grant of the user or the client.
 * @param query `client=…&user=…`
 */
async function grantsView(query?: string) {
  current.entities = ['apikeys'];
  const params = new URLSearchParams(query ?? '');
  const filter = { client: params.get('client') ?? '', user: params.get('user') ?? '' };
  const keys = await client.request('list', 'apikeys', { query: { limit: '1000' } });
  const names = new Map(keys.map((k) => [k.clientId, k.clientName]));
  const clientName = (id: string) => names.get(id) ?? id;
  const known = filter.client === '' || names.has(filter.client);
  const clientSelect = h(
    'select',
    { id: 'grants-client' },
    h('option', { value: '' }, 'Any client'),
    keys.map((k) =>
      h('option', { value: k.clientId, selected: k.clientId === filter.client }, `${k.clientName} (${k.clientId})`),
    ),
    known ? null : h('option', { value: filter.client, selected: true }, `${filter.client} (no such API key)`),
  );
  const userInput = h('input', {
    id: 'grants-user',
    value: filter.user,
    autocomplete: 'off',
    spellcheck: false,
    'aria-describedby': 'grants-user-hint',
  });
  const filters = h(
    'form',
    {
      class: 'card',
      role: 'search',
      'aria-label': 'Filter grants',
      onsubmit: (e: Event) => {
        e.preventDefault();
        go(grantsHash({ client: clientSelect.value, user: userInput.value.trim() }));
      },
    },
    h(
      'div',
      { class: 'row' },
      h('div', { class: 'field' }, h('label', { for: 'grants-client' }, 'Client'), clientSelect),
      h(
        'div',
        { class: 'field' },
        h('label', { for: 'grants-user' }, 'User'),
        userInput,
        h(
          'p',
          { class: 'hint', id: 'grants-user-hint' },
          "The authenticated_userid the provider's web app sent; exact match.",
        ),
      ),
    ),
    h(
      'div',
      { class: 'form-actions' },
      h('button', { type: 'submit', class: 'primary' }, 'Show grants'),
      h('a', { href: '#/grants', class: 'button' }, 'Clear filters'),
    ),
  );

  const revokeAll = async (question: string, who: { client?: string; user?: string }) => {
    if (!confirm(question)) return;
    try {
      const { revoked } = (await client.request('action', 'oauth2-grants', { action: 'revoke', query: who })) as {
        revoked: number;
      };
      toast(`${revoked} grant${revoked === 1 ? '' : 's'} revoked`);
      await draw();
    } catch (error) {
      toast(failure(error).message, 'bad');
    }
  };
  const bulk = [
    filter.user
      ? h(
          'button',
          {
            type: 'button',
            class: 'danger',
            onclick: () =>
              revokeAll(
                `Revoke every grant of the user ${filter.user}, for every client? Their access and refresh tokens stop working at once.`,
                { user: filter.user },
              ),
          },
          `Revoke all for this user (${filter.user})`,
        )
      : null,
    filter.client
      ? h(
          'button',
          {
            type: 'button',
            class: 'danger',
            onclick: () =>
              revokeAll(
                `Revoke every grant of the client ${clientName(filter.client)}, for every user? Its access and refresh tokens stop working at once.`,
                { client: filter.client },
              ),
          },
          `Revoke all for this client (${clientName(filter.client)})`,
        )
      : null,
  ];

  const list = h('div', {});
  const draw = async () => {
    const asked: Record<string, string> = {};
    if (filter.client) asked.client = filter.client;
    if (filter.user) asked.user = filter.user;
    const grants = await client.request('list', 'oauth2-grants', { query: asked });
    const created = (g: GrantView) => Math.min(...g.tokens.map((t) => t.iat));
    grants.sort((a, b) => created(b) - created(a));
    const rows = grants.map((g) => {
      const who = g.userId ?? 'no user (client credentials)';
      const revoke = h(
        'button',
        {
          type: 'button',
          class: 'small danger',
          'aria-label': `Revoke the grant of ${who} for ${clientName(g.clientId)}`,
          onclick: async () => {
            if (
              !confirm(
                `Revoke the grant of ${who} for ${clientName(g.clientId)}? Its access and refresh tokens stop working at once.`,
              )
            )
              return;
            try {
              await client.request('delete', 'oauth2-grants', { id: g.grant });
              toast('Grant revoked');
              await draw();
            } catch (error) {
              toast(failure(error).message, 'bad');
            }
          },
        },
        'Revoke',
      );
      return h(
        'tr',
        { dataset: { grant: g.grant } },
        h(
          'th',
          { scope: 'row' },
          h('a', { href: `#/apikeys/${encodeURIComponent(g.clientId)}` }, clientName(g.clientId)),
        ),
        h('td', {}, g.userId ?? h('span', { class: 'muted' }, '— (client credentials)')),
        h('td', {}, g.scope || '—'),
        h('td', {}, g.route),
        h('td', {}, dateTime(created(g))),
        h('td', {}, dateTime(Math.max(...g.tokens.map((t) => t.exp)))),
        h(
          'td',
          {},
          h(
            'ul',
            { class: 'tokens' },
            g.tokens.map((t) =>
              h(
                'li',
                {},
                `${t.type === 'access_token' ? 'access' : 'refresh'} `,
                h('code', { title: `SHA-256 ${t.digest}, expires ${dateTime(t.exp)}` }, `${t.digest.slice(0, 10)}…`),
              ),
            ),
          ),
        ),
        h('td', {}, revoke),
      );
    });
    const filtered = filter.client || filter.user;
    list.replaceChildren(
      h(
        'p',
        { class: 'muted', role: 'status' },
        `${grants.length} live grant${grants.length === 1 ? '' : 's'}${filtered ? ' matching the filters' : ''}.`,
      ),
      table(
        ['Client', 'User', 'Scope', 'Route', 'Created', 'Expires', 'Tokens (SHA-256)', 'Revoke'],
        rows,
        filtered
          ? 'No live grants match these filters.'
          : 'No live grants: tokens issued by the oauth2 plugin appear here.',
      ),
    );
  };
  current.refresh = draw;
  page(
    'OAuth2 grants',
    [
      h('button', { type: 'button', onclick: () => draw().catch((e) => toast(failure(e).message, 'bad')) }, 'Refresh'),
      ...bulk,
    ],
    h(
      'p',
      { class: 'muted' },
      'Grants issued by the oauth2 plugin, live in the runtime state store. Tokens appear as digests only: the gateway never keeps their values.',
    ),
    filters,
    list,
  );
  await draw();
}

// ── access requests ──────────────────────────────────────────────────────────
const REQUEST_STATES = ['pending', 'approved', 'rejected', 'revoked'] as RequestState[];
const QUOTA_LABELS = [
  ['throttlingQuota', 'Calls per second (throttling quota)'],
  ['dailyQuota', 'Calls per day (daily quota)'],
  ['monthlyQuota', 'Calls per month (monthly quota)'],
] as [keyof Quotas, string][];
const when = (iso?: string) => (iso ? new Date(iso).toLocaleString() : '—');
const quotaText = (quotas?: Quotas) =>
  QUOTA_LABELS.map(([k, label]) => `${label.replace(/ \(.*/, '')}: ${quotas?.[k] ?? 'unlimited'}`).join(' · ');
const stateBadge = (state: RequestState) => h('span', { class: `badge state-${state}` }, state);

/**
 * The queue: pending requests first, oldest first (the order they wait in), then the decided ones,
 * latest decision first; filtered by state.
 */
async function accessRequestsView(id?: string) {
  current.entities = ['access-requests', 'authorization-profiles'];
  if (id) return accessRequestPage(id);
  const stateSelect = h(
    'select',
    { id: 'requests-state', onchange: () => draw() },
    h('option', { value: '' }, 'Any state'),
    REQUEST_STATES.map((s) => h('option', { value: s, selected: s === 'pending' }, s)),
  );
  const list = h('div', {});
  const draw = async () => {
    const [requests, profiles] = (await Promise.all([
      client.request('list', 'access-requests', { query: stateSelect.value ? { state: stateSelect.value } : {} }),
      client.request('list', 'authorization-profiles'),
    ])) as [AccessRequest[], AuthorizationProfile[]];
    const names = new Map(profiles.map((p) => [p.id, p.name]));
    const pending = requests.filter((r) => r.state === 'pending');
    const decided = requests
      .filter((r) => r.state !== 'pending')
      .sort((a, b) => (b.decidedAt ?? '').localeCompare(a.decidedAt ?? ''));
    const rows = [...pending, ...decided].map((r) =>
      h(
        'tr',
        { dataset: { request: r.id } },
        h('th', { scope: 'row' }, h('a', { href: `#/access-requests/${encodeURIComponent(r.id)}` }, r.requester.name)),
        h('td', {}, names.get(r.profileId) ?? r.profileId),
        h('td', {}, r.requestedScopes.join(' ') || '—'),
        h('td', {}, stateBadge(r.state)),
        h('td', {}, when(r.createdAt)),
        h('td', {}, r.decidedAt ? `${when(r.decidedAt)} by ${r.decidedBy}` : '—'),
      ),
    );
    const shown = stateSelect.value || 'any state';
    list.replaceChildren(
      h(
        'p',
        { class: 'muted', role: 'status' },
        `${requests.length} request${requests.length === 1 ? '' : 's'} (${shown}).`,
      ),
      table(
        ['Requester', 'Profile', 'Requested scopes', 'State', 'Requested', 'Decided'],
        rows,
        stateSelect.value === 'pending' ? 'No pending requests: the queue is empty.' : 'No access requests match.',
      ),
    );
  };
  current.refresh = draw;
  page(
    'Access requests',
    [h('div', { class: 'field inline' }, h('label', { for: 'requests-state' }, 'State'), stateSelect)],
    h(
      'p',
      { class: 'muted' },
      'Requests for credentials made through a portal (POST /api/access-requests). Each has an API key, disabled until it is approved.',
    ),
    list,
  );
  await draw();
}

/**
 * One request: what was asked, the decision, the audit trail and the webhook log. The decision
 * forms stay open while the page refreshes (another manager may decide meanwhile: the server then
 * answers 409, shown in the form).
 */
async function accessRequestPage(id: string) {
  const actions = h('div', { class: 'actions' });
  const info = h('div', {});
  const decision = h('div', {});
  const trail = h('div', {});
  const deliveries = h('div', {});
  let request: AccessRequest;
  let profile: AuthorizationProfile;
  const draw = async () => {
    request = await client.request('get', 'access-requests', { id });
    const [loadedProfile, events, log] = await Promise.all([
      client.request('get', 'authorization-profiles', { id: request.profileId }),
      client.request('get', 'access-requests', { id, part: 'events' }) as Promise<unknown> as Promise<AuditEvent[]>,
      client.request('get', 'access-requests', { id, part: 'deliveries' }) as Promise<unknown> as Promise<Delivery[]>,
    ]);
    profile = loadedProfile;
    const facts: [string, Child][] = [
      [
        'Requester',
        [
          request.requester.name,
          ' ',
          h('span', { class: 'muted' }, `(${request.requester.id}, `),
          h('a', { href: `mailto:${request.requester.email}` }, request.requester.email),
          h('span', { class: 'muted' }, ')'),
        ],
      ],
      ['Profile', h('a', { href: `#/profiles/${encodeURIComponent(profile.id)}` }, profile.name)],
      ['Requested scopes', request.requestedScopes.join(' ') || '—'],
      ['Justification', request.justification || '—'],
      ['Client authentication', request.clientAuthentication.method],
      ['State', stateBadge(request.state)],
      ['Granted scopes', request.grantedScopes ? request.grantedScopes.join(' ') || '(none)' : '—'],
      // Set at approval; a pending or rejected request's are not what anyone was granted.
      ['Quotas', request.grantedScopes && request.quotas ? quotaText(request.quotas) : '—'],
      ['Decided by', request.decidedBy ?? '—'],
      ['Decided at', when(request.decidedAt)],
      ['Reason', request.reason ?? '—'],
      [
        'API key',
        request.apiKeyId
          ? h('a', { href: `#/apikeys/${encodeURIComponent(request.apiKeyId)}` }, request.apiKeyId)
          : '—',
      ],
      ['Requested', `${when(request.createdAt)} by ${request.createdBy}`],
    ];
    info.replaceChildren(
      h(
        'dl',
        { class: 'facts card' },
        facts.map(([term, detail]) => [h('dt', {}, term), h('dd', {}, detail)]),
      ),
    );
    actions.replaceChildren(
      ...(request.state === 'pending'
        ? [
            h('button', { type: 'button', class: 'primary', onclick: () => openDecision('approve') }, 'Approve…'),
            h('button', { type: 'button', class: 'danger', onclick: () => openDecision('reject') }, 'Reject…'),
          ]
        : request.state === 'approved'
          ? [h('button', { type: 'button', class: 'danger', onclick: () => openDecision('revoke') }, 'Revoke…')]
          : []),
    );
    trail.replaceChildren(
      table(
        ['When', 'Who', 'From', 'To', 'Reason'],
        events.map((e) =>
          h(
            'tr',
            {},
            h('td', {}, when(e.at)),
            h('td', {}, e.actor),
            h('td', {}, e.from ?? '(created)'),
            h('td', {}, e.to),
            h('td', {}, e.reason ?? '—'),
          ),
        ),
        'No events.',
      ),
    );
    deliveries.replaceChildren(
      table(
        ['Event', 'URL', 'State', 'Attempts', 'Last attempt'],
        log.map((d) => {
          const last = d.attempts.at(-1);
          return h(
            'tr',
            {},
            h('td', {}, d.type),
            h('td', { class: 'path' }, d.url),
            h('td', {}, d.state),
            h('td', { class: 'num' }, d.attempts.length),
            h('td', {}, last ? `${when(last.at)}: ${last.status ?? last.error ?? '—'}` : '—'),
          );
        }),
        profile.webhook ? 'No deliveries yet.' : 'No webhook: the profile has none.',
      ),
    );
    return request;
  };

  const openDecision = (name: 'approve' | 'reject' | 'revoke') => {
    const reason = h('textarea', { id: 'decision-reason', rows: 2, required: name === 'reject' });
    const error = h('div', { class: 'form-errors', role: 'alert', hidden: true });
    let body: () => Record<string, unknown> = (): Record<string, unknown> => ({});
    const fields: (HTMLElement | null)[] = [];
    if (name === 'approve') {
      const literal = profile.scopes.filter((s) => !s.endsWith('/*'));
      const choices = [...new Set([...request.requestedScopes, ...literal])];
      const boxes = choices.map((scope) =>
        h('input', {
          type: 'checkbox',
          value: scope,
          checked: request.requestedScopes.includes(scope),
          id: nextId('scope'),
        }),
      );
      const wildcards = profile.scopes.filter((s) => s.endsWith('/*'));
      const others = h('textarea', {
        id: 'decision-other-scopes',
        rows: 2,
        spellcheck: false,
        'aria-describedby': 'decision-other-scopes-hint',
      });
      const quotas = QUOTA_LABELS.map(([k, label]) => {
        const input = h('input', {
          type: 'number',
          min: 1,
          step: 1,
          id: `decision-${k}`,
          value: profile.quotas[k] ?? '',
          'aria-describedby': 'decision-quotas-hint',
        });
        return { k, label, input };
      });
      fields.push(
        h(
          'fieldset',
          { class: 'enum-set' },
          h('legend', {}, 'Granted scopes'),
          h(
            'p',
            { class: 'hint' },
            `Requested: ${request.requestedScopes.join(' ') || 'none'}. The profile offers: ${profile.scopes.join(' ') || 'none'}.`,
          ),
          h(
            'div',
            { class: 'choices' },
            boxes.map((box) => h('span', { class: 'field inline' }, box, h('label', { for: box.id }, box.value))),
          ),
        ),
        wildcards.length
          ? h(
              'div',
              { class: 'field' },
              h('label', { for: others.id }, 'Other scopes (one per line)'),
              others,
              h('p', { class: 'hint', id: 'decision-other-scopes-hint' }, `Within ${wildcards.join(', ')}.`),
            )
          : null,
        h(
          'fieldset',
          {},
          h('legend', {}, 'Quotas'),
          h('p', { class: 'hint', id: 'decision-quotas-hint' }, "The profile's defaults, to adjust; empty: unlimited."),
          h(
            'div',
            { class: 'row' },
            quotas.map(({ label, input }) => h('div', { class: 'field' }, h('label', { for: input.id }, label), input)),
          ),
        ),
      );
      body = () => ({
        scopes: [
          ...new Set([
            ...boxes.filter((b) => b.checked).map((b) => b.value),
            ...others.value
              .split('\n')
              .map((s) => s.trim())
              .filter(Boolean),
          ]),
        ],
        quotas: Object.fromEntries(quotas.map(({ k, input }) => [k, input.value === '' ? null : Number(input.value)])),
      });
    }
    const verb = { approve: 'approval', reject: 'rejection', revoke: 'revocation' }[name];
    const hint = {
      approve: "Enables the API key with these scopes, the profile's routes and these quotas.",
      reject: `The requester is told why. The API key is ${profile.onReject === 'delete' ? 'deleted' : 'kept disabled'}.`,
      revoke: 'Disables the API key and revokes every token issued to it.',
    }[name];
    const confirmButton = h(
      'button',
      { type: 'submit', class: name === 'approve' ? 'primary' : 'danger' },
      `Confirm ${verb}`,
    );
    const form = h(
      'form',
      {
        class: 'card decision-form',
        'aria-labelledby': 'decision-title',
        novalidate: true,
        onsubmit: async (e: Event) => {
          e.preventDefault();
          if (name === 'reject' && reason.value.trim() === '') {
            error.replaceChildren(h('strong', {}, 'A rejection needs a reason: the requester is told it.'));
            error.hidden = false;
            reason.focus();
            return;
          }
          confirmButton.disabled = true;
          try {
            await client.request('action', 'access-requests', {
              id,
              action: name,
              body: { ...body(), ...(reason.value.trim() ? { reason: reason.value.trim() } : {}) },
            });
            toast(`Request ${{ approve: 'approved', reject: 'rejected', revoke: 'revoked' }[name]}`);
            decision.replaceChildren();
            await draw();
          } catch (err) {
            const { message, details } = failure(err);
            error.replaceChildren(
              h('strong', {}, message),
              ...(details.length
                ? [
                    h(
                      'ul',
                      {},
                      details.map((d) => h('li', {}, `${d.path}: ${d.message}`)),
                    ),
                  ]
                : []),
            );
            error.hidden = false;
            toast(message, 'bad');
          } finally {
            confirmButton.disabled = false;
          }
        },
      },
      h(
        'h2',
        { id: 'decision-title' },
        `${{ approve: 'Approve', reject: 'Reject', revoke: 'Revoke' }[name]} the request of ${request.requester.name}`,
      ),
      h('p', { class: 'hint' }, hint),
      error,
      fields,
      h(
        'div',
        { class: 'field' },
        h('label', { for: 'decision-reason' }, name === 'reject' ? 'Reason' : 'Reason (optional)'),
        reason,
      ),
      h(
        'div',
        { class: 'form-actions' },
        confirmButton,
        h('button', { type: 'button', onclick: () => decision.replaceChildren() }, 'Cancel'),
      ),
    );
    decision.replaceChildren(form);
    (form.querySelector('input, textarea') as HTMLElement | null)?.focus();
  };

  current.refresh = draw;
  const shown = await draw();
  page(
    `Access request: ${shown.requester.name}`,
    actions,
    h('p', {}, h('a', { href: '#/access-requests' }, '← The queue')),
    info,
    decision,
    h('h2', {}, 'Audit trail'),
    trail,
    h('h2', {}, 'Webhook deliveries'),
    deliveries,
  );
}

// ── authorization profiles ───────────────────────────────────────────────────
async function profilesView(id?: string) {
  current.entities = ['authorization-profiles'];
  if (id) {
    const isNew = id === 'new';
    const [entity, routesList] = (await Promise.all([
      isNew
        ? Promise.resolve({ name: '', owner: '', scopes: [], authorizedEntities: [], quotas: {} })
        : client.request('get', 'authorization-profiles', { id }),
      client.request('list', 'routes'),
    ])) as [AuthorizationProfile, Route[]];
    // Reads never carry the webhook secret (writeOnly); a stored webhook has one (the server refuses one without).
    const del = isNew
      ? null
      : h(
          'button',
          {
            type: 'button',
            class: 'danger',
            onclick: async () => {
              if (!confirm(`Delete the authorization profile ${entity.name}?`)) return;
              try {
                await client.request('delete', 'authorization-profiles', { id });
                toast('Authorization profile deleted');
                location.hash = '#/profiles';
              } catch (error) {
                toast(failure(error).message, 'bad');
              }
            },
          },
          'Delete',
        );
    return page(
      isNew ? 'New authorization profile' : `Authorization profile: ${entity.name}`,
      [del],
      editor('authorization-profiles', entity, {
        isNew,
        options: {
          choices: { '/authorizedEntities': routeChoices(routesList) },
          optionalObjects: ['/webhook'],
          stored: !isNew,
          replaceableSecret: (path) => path === '/webhook/secret',
        },
        onSaved: (saved: AuthorizationProfile) => go(`#/profiles/${encodeURIComponent(saved.id)}`),
      }),
    );
  }
  const list = h('div', {});
  const draw = async () => {
    const profiles = await client.request('list', 'authorization-profiles');
    list.replaceChildren(
      table(
        ['Name', 'Owner', 'Flow', 'Client authentication', 'Scopes', 'Routes', 'Webhook'],
        profiles.map((p) =>
          h(
            'tr',
            {},
            h('th', { scope: 'row' }, h('a', { href: `#/profiles/${encodeURIComponent(p.id)}` }, p.name)),
            h('td', {}, p.owner),
            h('td', {}, p.flow),
            h('td', {}, p.clientAuthenticator),
            h('td', {}, p.scopes.join(' ') || '—'),
            h('td', {}, p.authorizedEntities.join(', ') || '—'),
            h('td', {}, p.webhook ? p.webhook.url : '—'),
          ),
        ),
        'No authorization profiles yet.',
      ),
    );
  };
  current.refresh = draw;
  page(
    'Authorization profiles',
    [h('a', { href: '#/profiles/new', class: 'button primary' }, 'New authorization profile')],
    h(
      'p',
      { class: 'muted' },
      'What a product offers to the consumers who request access: flow, client authentication, scopes, routes, default quotas, a webhook.',
    ),
    list,
  );
  await draw();
}

// ── key pairs ────────────────────────────────────────────────────────────────
async function keyPairsView() {
  current.entities = ['keypairs'];
  const list = h('div', {});
  const draw = async () => {
    const pairs = await client.request('list', 'keypairs');
    list.replaceChildren(
      ...pairs.map((p) =>
        h(
          'section',
          { class: 'card' },
          h(
            'div',
            { class: 'card-head' },
            h('h2', {}, p.name, h('span', { class: 'muted' }, ` ${p.id}`)),
            h('span', { class: 'badge' }, p.alg),
          ),
          h(
            'p',
            {},
            'kid ',
            h('code', {}, p.kid),
            p.exposed ? ' · in the JWKS' : ' · not exposed',
            p.previousKeys.length ? ` · ${p.previousKeys.length} previous key(s) until they retire` : '',
          ),
          h(
            'details',
            {},
            h('summary', {}, 'Public JWK'),
            codeBlock(JSON.stringify(p.publicJwk, null, 2), `Public JWK of ${p.name}`),
          ),
          h(
            'div',
            { class: 'form-actions' },
            h(
              'button',
              {
                type: 'button',
                onclick: async () => {
                  try {
                    await client.request('action', 'keypairs', { id: p.id, action: 'rotate' });
                    toast(`${p.name} rotated`);
                  } catch (e) {
                    toast(failure(e).message, 'bad');
                  }
                },
              },
              'Rotate',
            ),
            h(
              'button',
              {
                type: 'button',
                class: 'danger',
                onclick: async () => {
                  if (!confirm(`Delete ${p.name}?`)) return;
                  try {
                    await client.request('delete', 'keypairs', { id: p.id });
                    toast('Deleted');
                  } catch (e) {
                    toast(failure(e).message, 'bad');
                  }
                },
              },
              'Delete',
            ),
          ),
        ),
      ),
    );
  };
  current.refresh = draw;
  const idInput = h('input', { id: 'kp-id', required: true, 'aria-describedby': 'kp-id-hint' });
  const nameInput = h('input', { id: 'kp-name', required: true });
  const alg = h(
    'select',
    { id: 'kp-alg' },
    ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'].map((a) => h('option', { value: a }, a)),
  );
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const generate = h(
    'form',
    {
      class: 'card inline-form',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        try {
          await client.request('create', 'keypairs', {
            entity: { id: idInput.value.trim(), name: nameInput.value.trim() || idInput.value.trim(), alg: alg.value },
          });
          toast('Key pair generated');
          error.hidden = true;
          idInput.value = nameInput.value = '';
        } catch (err) {
          const { message, details } = failure(err);
          error.textContent = [message, ...details.map((d) => `${d.path}: ${d.message}`)].join(' — ');
          error.hidden = false;
        }
      },
    },
    h('h2', {}, 'Generate a key pair'),
    h(
      'div',
      { class: 'row' },
      h(
        'div',
        { class: 'field' },
        h('label', { for: 'kp-id' }, 'Id'),
        idInput,
        h(
          'p',
          { class: 'hint', id: 'kp-id-hint' },
          'e.g. partner-signing; API keys name it in their jwt-sign-keypair metadata',
        ),
      ),
      h('div', { class: 'field' }, h('label', { for: 'kp-name' }, 'Name'), nameInput),
      h('div', { class: 'field' }, h('label', { for: 'kp-alg' }, 'Algorithm'), alg),
    ),
    error,
    h('button', { type: 'submit', class: 'primary' }, 'Generate'),
  );
  page(
    'Key pairs',
    [],
    h(
      'p',
      { class: 'muted' },
      'Public keys are published at /.well-known/otoroshi/oauth/jwks.json on the proxy when the client-credentials plugin is enabled.',
    ),
    generate,
    list,
  );
  await draw();
}

// ── JWT verifiers ────────────────────────────────────────────────────────────
async function verifiersView(id?: string) {
  current.entities = ['jwt-verifiers'];
  if (id) {
    const isNew = id === 'new';
    const entity = isNew
      ? { name: '', keys: { kind: 'keypairs' }, algorithms: ['RS256', 'ES256'] }
      : await client.request('get', 'jwt-verifiers', { id });
    return page(
      isNew ? 'New JWT verifier' : `JWT verifier: ${entity.name}`,
      [],
      editor('jwt-verifiers', entity, {
        isNew,
        onSaved: (saved: JwtVerifier) => go(`#/verifiers/${encodeURIComponent(saved.id)}`),
      }),
    );
  }
  const list = h('div', {});
  const draw = async () => {
    const verifiers = await client.request('list', 'jwt-verifiers');
    list.replaceChildren(
      table(
        ['Name', 'Keys', 'Algorithms', 'Issuer'],
        verifiers.map((v) =>
          h(
            'tr',
            {},
            h('th', { scope: 'row' }, h('a', { href: `#/verifiers/${encodeURIComponent(v.id)}` }, v.name)),
            h('td', {}, v.keys.kind),
            h('td', {}, v.algorithms.join(', ')),
            h('td', {}, [v.issuer ?? 'any'].flat().join(', ')),
          ),
        ),
        'No JWT verifiers yet.',
      ),
    );
  };
  current.refresh = draw;
  page('JWT verifiers', [h('a', { href: '#/verifiers/new', class: 'button primary' }, 'New JWT verifier')], list);
  await draw();
}

// ── import / export ──────────────────────────────────────────────────────────
async function settingsView() {
  const withKeys = h('input', { type: 'checkbox', id: 'with-keys' });
  const file = h('input', { type: 'file', id: 'import-file', accept: 'application/json' });
  const result = h('p', { role: 'status' });
  page(
    'Import / export',
    [],
    h(
      'section',
      { class: 'card' },
      h('h2', {}, 'Export'),
      h('p', {}, 'The whole configuration as JSON. Secrets of API keys are exported as hashes.'),
      h(
        'div',
        { class: 'field inline' },
        withKeys,
        h('label', { for: 'with-keys' }, 'Include private keys and HMAC secrets'),
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'primary',
          onclick: async () => {
            const doc = await client.request('get', 'export', { includePrivateKeys: withKeys.checked });
            const link = h('a', {
              href: URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)], { type: 'application/json' })),
              download: 'portcullis-export.json',
            });
            link.click();
          },
        },
        'Download export',
      ),
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', {}, 'Import'),
      h('p', {}, 'Replaces every kind present in the file; the whole file is validated before anything is written.'),
      h('div', { class: 'field' }, h('label', { for: 'import-file' }, 'Export file'), file),
      h(
        'button',
        {
          type: 'button',
          class: 'primary',
          onclick: async () => {
            try {
              const document = JSON.parse(await ((file.files as FileList)[0] as File).text());
              const res = (await client.request('action', 'import', { document })) as {
                imported: Record<string, number>;
              };
              result.textContent = `Imported: ${Object.entries(res.imported)
                .map(([k, n]) => `${n} ${k}`)
                .join(', ')}`;
            } catch (error) {
              const { message, details } = failure(error);
              result.textContent = [message, ...details.slice(0, 5).map((d) => `${d.path}: ${d.message}`)].join(' — ');
            }
          },
        },
        'Import',
      ),
      result,
    ),
  );
}
