// The OAuth2 grants screen: the `oauth2` plugin's live grants (runtime state: refreshed on demand,
// not pushed), filtered by client and by user, with revocation of one grant or of every grant of the
// user or the client.
import { failure } from '../client.js';
import { h, toast } from '../dom.js';
import { table } from './common.js';

import type { ApiKey, GrantView } from '../shapes.js';
import type { ViewContext } from './context.js';

type Filter = { client: string; user: string };

/** What the grant parts share: the filter, the clients' names, and how to draw the list again. */
type Grants = { ctx: ViewContext; filter: Filter; clientName: (id: string) => string; draw: () => Promise<void> };

/**
 * The grants screen's address for a filter; the query is one hash segment, encoded once more so
 * that a user id with `/`, `&` or `=` survives.
 */
export function grantsHash({ client: clientId = '', user = '' }: { client?: string; user?: string }) {
  const query = new URLSearchParams();
  if (clientId) query.set('client', clientId);
  if (user) query.set('user', user);
  const text = query.toString();
  return text ? `#/grants/${encodeURIComponent(text)}` : '#/grants';
}

const dateTime = (seconds: number) => new Date(seconds * 1000).toLocaleString();
const created = (g: GrantView) => Math.min(...g.tokens.map((t) => t.iat));

/**
 * @param query `client=…&user=…`
 */
export async function grantsView(ctx: ViewContext, query?: string) {
  ctx.screen.entities = ['apikeys'];
  const params = new URLSearchParams(query ?? '');
  const filter = { client: params.get('client') ?? '', user: params.get('user') ?? '' };
  const keys = await ctx.client.request('list', 'apikeys', { query: { limit: '1000' } });
  const names = new Map(keys.map((k) => [k.clientId, k.clientName]));
  const list = h('div', {});
  const grants: Grants = {
    ctx,
    filter,
    clientName: (id: string) => names.get(id) ?? id,
    draw: () => drawGrants(grants, list),
  };
  ctx.screen.refresh = grants.draw;
  ctx.page(
    'OAuth2 grants',
    [
      h(
        'button',
        { type: 'button', onclick: () => grants.draw().catch((e) => toast(failure(e).message, 'bad')) },
        'Refresh',
      ),
      ...bulkRevokeButtons(grants),
    ],
    h(
      'p',
      { class: 'muted' },
      'Grants issued by the oauth2 plugin, live in the runtime state store. Tokens appear as digests only: the gateway never keeps their values.',
    ),
    grantFilters(ctx, filter, keys, names.has(filter.client)),
    list,
  );
  await grants.draw();
}

function clientSelect(filter: Filter, keys: ApiKey[], known: boolean) {
  return h(
    'select',
    { id: 'grants-client' },
    h('option', { value: '' }, 'Any client'),
    keys.map((k) =>
      h('option', { value: k.clientId, selected: k.clientId === filter.client }, `${k.clientName} (${k.clientId})`),
    ),
    known || filter.client === ''
      ? null
      : h('option', { value: filter.client, selected: true }, `${filter.client} (no such API key)`),
  );
}

/** The filter form: a client picked from the API keys, a user typed (exact match). */
function grantFilters(ctx: ViewContext, filter: Filter, keys: ApiKey[], known: boolean) {
  const select = clientSelect(filter, keys, known);
  const userInput = h('input', {
    id: 'grants-user',
    value: filter.user,
    autocomplete: 'off',
    spellcheck: false,
    'aria-describedby': 'grants-user-hint',
  });
  const submit = (e: Event) => {
    e.preventDefault();
    ctx.go(grantsHash({ client: select.value, user: userInput.value.trim() }));
  };
  return h(
    'form',
    { class: 'card', role: 'search', 'aria-label': 'Filter grants', onsubmit: submit },
    h(
      'div',
      { class: 'row' },
      h('div', { class: 'field' }, h('label', { for: 'grants-client' }, 'Client'), select),
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
}

/** "Revoke all" for the user and for the client the filter names. */
function bulkRevokeButtons({ ctx, filter, clientName, draw }: Grants) {
  const revokeAll = async (question: string, who: { client?: string; user?: string }) => {
    if (!confirm(question)) return;
    try {
      const { revoked } = (await ctx.client.request('action', 'oauth2-grants', { action: 'revoke', query: who })) as {
        revoked: number;
      };
      toast(`${revoked} grant${revoked === 1 ? '' : 's'} revoked`);
      await draw();
    } catch (error) {
      toast(failure(error).message, 'bad');
    }
  };
  const forUser = () =>
    revokeAll(
      `Revoke every grant of the user ${filter.user}, for every client? Their access and refresh tokens stop working at once.`,
      { user: filter.user },
    );
  const forClient = () =>
    revokeAll(
      `Revoke every grant of the client ${clientName(filter.client)}, for every user? Its access and refresh tokens stop working at once.`,
      { client: filter.client },
    );
  return [
    filter.user
      ? h('button', { type: 'button', class: 'danger', onclick: forUser }, `Revoke all for this user (${filter.user})`)
      : null,
    filter.client
      ? h(
          'button',
          { type: 'button', class: 'danger', onclick: forClient },
          `Revoke all for this client (${clientName(filter.client)})`,
        )
      : null,
  ];
}

async function drawGrants(grants: Grants, list: HTMLElement) {
  const { ctx, filter } = grants;
  const asked: Record<string, string> = {};
  if (filter.client) asked.client = filter.client;
  if (filter.user) asked.user = filter.user;
  const found = await ctx.client.request('list', 'oauth2-grants', { query: asked });
  found.sort((a, b) => created(b) - created(a));
  const rows = found.map((g) => grantRow(grants, g));
  const filtered = filter.client || filter.user;
  list.replaceChildren(
    h(
      'p',
      { class: 'muted', role: 'status' },
      `${found.length} live grant${found.length === 1 ? '' : 's'}${filtered ? ' matching the filters' : ''}.`,
    ),
    table(
      ['Client', 'User', 'Scope', 'Route', 'Created', 'Expires', 'Tokens (SHA-256)', 'Revoke'],
      rows,
      filtered
        ? 'No live grants match these filters.'
        : 'No live grants: tokens issued by the oauth2 plugin appear here.',
    ),
  );
}

function revokeButton({ ctx, clientName, draw }: Grants, g: GrantView) {
  const who = g.userId ?? 'no user (client credentials)';
  const revoke = async () => {
    if (
      !confirm(
        `Revoke the grant of ${who} for ${clientName(g.clientId)}? Its access and refresh tokens stop working at once.`,
      )
    )
      return;
    try {
      await ctx.client.request('delete', 'oauth2-grants', { id: g.grant });
      toast('Grant revoked');
      await draw();
    } catch (error) {
      toast(failure(error).message, 'bad');
    }
  };
  return h(
    'button',
    {
      type: 'button',
      class: 'small danger',
      'aria-label': `Revoke the grant of ${who} for ${clientName(g.clientId)}`,
      onclick: revoke,
    },
    'Revoke',
  );
}

function tokenList(g: GrantView) {
  return h(
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
  );
}

function grantRow(grants: Grants, g: GrantView) {
  const { clientName } = grants;
  return h(
    'tr',
    { dataset: { grant: g.grant } },
    h('th', { scope: 'row' }, h('a', { href: `#/apikeys/${encodeURIComponent(g.clientId)}` }, clientName(g.clientId))),
    h('td', {}, g.userId ?? h('span', { class: 'muted' }, '— (client credentials)')),
    h('td', {}, g.scope || '—'),
    h('td', {}, g.route),
    h('td', {}, dateTime(created(g))),
    h('td', {}, dateTime(Math.max(...g.tokens.map((t) => t.exp)))),
    h('td', {}, tokenList(g)),
    h('td', {}, revokeButton(grants, g)),
  );
}
