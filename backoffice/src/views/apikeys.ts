// The API keys screen: the list (searchable, enabled from the table) and one key's editor, with its
// secret shown once at creation and at rotation.
import { failure } from '../client.js';
import { h, toast } from '../dom.js';
import { keyPairChoices, profileChoices, routeChoices } from '../choices.js';
import { editor, searchBox, shownOnceDialog, table } from './common.js';
import { grantsHash } from './grants.js';

import type { ApiKey, AuthorizationProfile, KeyPair, Route } from '../shapes.js';
import type { MetadataPicker } from '../form.js';
import type { ViewContext } from './context.js';

export async function apiKeysView(ctx: ViewContext, id?: string) {
  ctx.screen.entities = ['apikeys', 'keypairs'];
  if (id) return apiKeyEditor(ctx, id);
  const list = h('div', {});
  let filter = '';
  const draw = async () => {
    const keys = await ctx.client.request('list', 'apikeys', { query: { limit: '1000' } });
    const rows = keys
      .filter((k) => !filter || JSON.stringify([k.clientId, k.clientName, k.tags]).toLowerCase().includes(filter))
      .map((k) => apiKeyRow(ctx, k));
    list.replaceChildren(
      table(
        ['Name', 'Client id', 'Authorized', 'Scopes', 'Type', 'Signing key pair', 'Enabled'],
        rows,
        'No API keys yet.',
      ),
    );
  };
  ctx.screen.refresh = draw;
  ctx.page(
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

function apiKeyRow(ctx: ViewContext, k: ApiKey) {
  const toggle = h('input', {
    type: 'checkbox',
    checked: k.enabled,
    'aria-label': `Enable ${k.clientName}`,
    onchange: async () => {
      try {
        await ctx.client.request('update', 'apikeys', { id: k.clientId, entity: { ...k, enabled: toggle.checked } });
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
}

function secretDialog(clientId: string, secret: string) {
  shownOnceDialog(
    'Client secret',
    `This is the only time the secret of ${clientId} is shown. Copy it now.`,
    secret,
    'client-secret',
  );
}

/** A stored key's page actions: its grants, a new secret (not for a public client), delete. */
function apiKeyActions(ctx: ViewContext, id: string, entity: ApiKey) {
  const rotate = async () => {
    const rotated = (await ctx.client.request('action', 'apikeys', { id, action: 'rotate-secret' })) as {
      clientId: string;
      clientSecret: string;
    };
    secretDialog(rotated.clientId, rotated.clientSecret);
  };
  const remove = async () => {
    if (!confirm(`Delete the API key ${entity.clientName}?`)) return;
    await ctx.client.request('delete', 'apikeys', { id });
    location.hash = '#/apikeys';
  };
  return [
    h('a', { href: grantsHash({ client: entity.clientId }), class: 'button' }, 'Grants of this client'),
    // A public client has no secret (RFC 6749 §2.1): nothing to rotate.
    entity.clientType === 'public' ? null : h('button', { type: 'button', onclick: rotate }, 'Rotate secret'),
    h('button', { type: 'button', class: 'danger', onclick: remove }, 'Delete'),
  ];
}

/** The metadata entries picked from live lists: the key pair that signs, the authorization profile. */
function metadataPickers(keyPairs: KeyPair[], profiles: AuthorizationProfile[]): MetadataPicker[] {
  return [
    {
      key: 'jwt-sign-keypair',
      label: 'JWT signing key pair (metadata jwt-sign-keypair)',
      hint: "The key pair that signs this key's access tokens.",
      none: 'the default key pair',
      choices: keyPairChoices(keyPairs),
    },
    {
      key: 'authorization-profile',
      label: 'Authorization profile (metadata authorization-profile)',
      hint: 'The authorization profile this key was issued under (an approved access request sets it).',
      none: 'none',
      choices: profileChoices(profiles),
    },
  ];
}

async function apiKeyEditor(ctx: ViewContext, id: string) {
  const isNew = id === 'new';
  const [entity, keyPairs, routesList, profiles] = (await Promise.all([
    isNew
      ? Promise.resolve({ clientName: '', authorizedEntities: [], scopes: [], metadata: {} })
      : ctx.client.request('get', 'apikeys', { id }),
    ctx.client.request('list', 'keypairs'),
    ctx.client.request('list', 'routes'),
    ctx.client.request('list', 'authorization-profiles'),
  ])) as [ApiKey, KeyPair[], Route[], AuthorizationProfile[]];
  ctx.page(
    isNew ? 'New API key' : `API key: ${entity.clientName}`,
    isNew ? [] : apiKeyActions(ctx, id, entity),
    editor(ctx, 'apikeys', entity, {
      isNew,
      // A public client has no secret: the field goes away while the type says public.
      options: {
        metadataPickers: metadataPickers(keyPairs, profiles),
        choices: { '/authorizedEntities': routeChoices(routesList) },
        hide: isNew ? [] : ['/clientSecret'],
        visibleWhen: { '/clientSecret': (value) => value.clientType !== 'public' },
      },
      onSaved: (saved: ApiKey) => {
        if (isNew && saved.clientSecret) secretDialog(saved.clientId, saved.clientSecret);
        ctx.go(`#/apikeys/${encodeURIComponent(saved.clientId)}`);
      },
    }),
  );
}
