// The import / export screen: the whole configuration downloaded as JSON, or replaced from a file.
import { failure } from '../client.js';
import { h } from '../dom.js';

import type { ViewContext } from './context.js';

export async function settingsView(ctx: ViewContext) {
  ctx.page('Import / export', [], exportCard(ctx), importCard(ctx));
}

function exportCard(ctx: ViewContext) {
  const withKeys = h('input', { type: 'checkbox', id: 'with-keys' });
  const download = async () => {
    const doc = await ctx.client.request('get', 'export', { includePrivateKeys: withKeys.checked });
    const link = h('a', {
      href: URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)], { type: 'application/json' })),
      download: 'portcullis-export.json',
    });
    link.click();
  };
  return h(
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
    h('button', { type: 'button', class: 'primary', onclick: download }, 'Download export'),
  );
}

function importCard(ctx: ViewContext) {
  const file = h('input', { type: 'file', id: 'import-file', accept: 'application/json' });
  const result = h('p', { role: 'status' });
  const upload = async () => {
    try {
      const document = JSON.parse(await ((file.files as FileList)[0] as File).text());
      const res = (await ctx.client.request('action', 'import', { document })) as {
        imported: Record<string, number>;
      };
      result.textContent = `Imported: ${Object.entries(res.imported)
        .map(([k, n]) => `${n} ${k}`)
        .join(', ')}`;
    } catch (error) {
      const { message, details } = failure(error);
      result.textContent = [message, ...details.slice(0, 5).map((d) => `${d.path}: ${d.message}`)].join(' — ');
    }
  };
  return h(
    'section',
    { class: 'card' },
    h('h2', {}, 'Import'),
    h('p', {}, 'Replaces every kind present in the file; the whole file is validated before anything is written.'),
    h('div', { class: 'field' }, h('label', { for: 'import-file' }, 'Export file'), file),
    h('button', { type: 'button', class: 'primary', onclick: upload }, 'Import'),
    result,
  );
}
