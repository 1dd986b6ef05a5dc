// The JWT verifiers screen: the list and one verifier's editor.
import { h } from '../dom.js';
import { editor, table } from './common.js';

import type { JwtVerifier } from '../shapes.js';
import type { ViewContext } from './context.js';

export async function verifiersView(ctx: ViewContext, id?: string) {
  ctx.screen.entities = ['jwt-verifiers'];
  if (id) return verifierEditor(ctx, id);
  const list = h('div', {});
  const draw = async () => {
    const verifiers = await ctx.client.request('list', 'jwt-verifiers');
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
  ctx.screen.refresh = draw;
  ctx.page('JWT verifiers', [h('a', { href: '#/verifiers/new', class: 'button primary' }, 'New JWT verifier')], list);
  await draw();
}

async function verifierEditor(ctx: ViewContext, id: string) {
  const isNew = id === 'new';
  const entity = isNew
    ? { name: '', keys: { kind: 'keypairs' }, algorithms: ['RS256', 'ES256'] }
    : await ctx.client.request('get', 'jwt-verifiers', { id });
  return ctx.page(
    isNew ? 'New JWT verifier' : `JWT verifier: ${entity.name}`,
    [],
    editor(ctx, 'jwt-verifiers', entity, {
      isNew,
      onSaved: (saved: JwtVerifier) => ctx.go(`#/verifiers/${encodeURIComponent(saved.id)}`),
    }),
  );
}
