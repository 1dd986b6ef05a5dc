// The key pairs screen: each signing key pair (its public JWK, rotate, delete) and the form that
// generates a new one.
import { failure } from '../client.js';
import { h, toast, codeBlock } from '../dom.js';

import type { KeyPair } from '../shapes.js';
import type { ViewContext } from './context.js';

export async function keyPairsView(ctx: ViewContext) {
  ctx.screen.entities = ['keypairs'];
  const list = h('div', {});
  const draw = async () => {
    const pairs = await ctx.client.request('list', 'keypairs');
    list.replaceChildren(...pairs.map((p) => keyPairCard(ctx, p)));
  };
  ctx.screen.refresh = draw;
  ctx.page(
    'Key pairs',
    [],
    h(
      'p',
      { class: 'muted' },
      'Public keys are published at /.well-known/otoroshi/oauth/jwks.json on the proxy when the client-credentials plugin is enabled.',
    ),
    generateForm(ctx),
    list,
  );
  await draw();
}

function keyPairButtons(ctx: ViewContext, p: KeyPair) {
  const rotate = async () => {
    try {
      await ctx.client.request('action', 'keypairs', { id: p.id, action: 'rotate' });
      toast(`${p.name} rotated`);
    } catch (e) {
      toast(failure(e).message, 'bad');
    }
  };
  const remove = async () => {
    if (!confirm(`Delete ${p.name}?`)) return;
    try {
      await ctx.client.request('delete', 'keypairs', { id: p.id });
      toast('Deleted');
    } catch (e) {
      toast(failure(e).message, 'bad');
    }
  };
  return h(
    'div',
    { class: 'form-actions' },
    h('button', { type: 'button', onclick: rotate }, 'Rotate'),
    h('button', { type: 'button', class: 'danger', onclick: remove }, 'Delete'),
  );
}

function keyPairCard(ctx: ViewContext, p: KeyPair) {
  return h(
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
    keyPairButtons(ctx, p),
  );
}

function generateForm(ctx: ViewContext) {
  const idInput = h('input', { id: 'kp-id', required: true, 'aria-describedby': 'kp-id-hint' });
  const nameInput = h('input', { id: 'kp-name', required: true });
  const alg = h(
    'select',
    { id: 'kp-alg' },
    ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'].map((a) => h('option', { value: a }, a)),
  );
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      await ctx.client.request('create', 'keypairs', {
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
  };
  return h(
    'form',
    { class: 'card inline-form', onsubmit: submit },
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
}
