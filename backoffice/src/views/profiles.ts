// The authorization profiles screen: what a product offers to the consumers who request access.
import { failure } from '../client.js';
import { h, toast } from '../dom.js';
import { routeChoices } from '../choices.js';
import { editor, table } from './common.js';

import type { AuthorizationProfile, Route } from '../shapes.js';
import type { ViewContext } from './context.js';

export async function profilesView(ctx: ViewContext, id?: string) {
  ctx.screen.entities = ['authorization-profiles'];
  if (id) return profileEditor(ctx, id);
  const list = h('div', {});
  const draw = async () => {
    const profiles = await ctx.client.request('list', 'authorization-profiles');
    list.replaceChildren(
      table(
        ['Name', 'Owner', 'Flow', 'Client authentication', 'Scopes', 'Routes', 'Webhook'],
        profiles.map(profileRow),
        'No authorization profiles yet.',
      ),
    );
  };
  ctx.screen.refresh = draw;
  ctx.page(
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

function profileRow(p: AuthorizationProfile) {
  return h(
    'tr',
    {},
    h('th', { scope: 'row' }, h('a', { href: `#/profiles/${encodeURIComponent(p.id)}` }, p.name)),
    h('td', {}, p.owner),
    h('td', {}, p.flow),
    h('td', {}, p.clientAuthenticator),
    h('td', {}, p.scopes.join(' ') || '—'),
    h('td', {}, p.authorizedEntities.join(', ') || '—'),
    h('td', {}, p.webhook ? p.webhook.url : '—'),
  );
}

function deleteProfileButton(ctx: ViewContext, id: string, name: string) {
  const remove = async () => {
    if (!confirm(`Delete the authorization profile ${name}?`)) return;
    try {
      await ctx.client.request('delete', 'authorization-profiles', { id });
      toast('Authorization profile deleted');
      location.hash = '#/profiles';
    } catch (error) {
      toast(failure(error).message, 'bad');
    }
  };
  return h('button', { type: 'button', class: 'danger', onclick: remove }, 'Delete');
}

async function profileEditor(ctx: ViewContext, id: string) {
  const isNew = id === 'new';
  const [entity, routesList] = (await Promise.all([
    isNew
      ? Promise.resolve({ name: '', owner: '', scopes: [], authorizedEntities: [], quotas: {} })
      : ctx.client.request('get', 'authorization-profiles', { id }),
    ctx.client.request('list', 'routes'),
  ])) as [AuthorizationProfile, Route[]];
  // Reads never carry the webhook secret (writeOnly); a stored webhook has one (the server refuses one without).
  return ctx.page(
    isNew ? 'New authorization profile' : `Authorization profile: ${entity.name}`,
    [isNew ? null : deleteProfileButton(ctx, id, entity.name)],
    editor(ctx, 'authorization-profiles', entity, {
      isNew,
      options: {
        choices: { '/authorizedEntities': routeChoices(routesList) },
        optionalObjects: ['/webhook'],
        stored: !isNew,
        replaceableSecret: (path) => path === '/webhook/secret',
      },
      onSaved: (saved: AuthorizationProfile) => ctx.go(`#/profiles/${encodeURIComponent(saved.id)}`),
    }),
  );
}
