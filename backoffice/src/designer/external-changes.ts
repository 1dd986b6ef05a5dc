// Changes made elsewhere (another tab, the API) while the designer is open: with no draft, the
// page reloads the route; with one, a notice says that saving will be refused as stale.
import type { RouteDraft, Designer } from './model.js';

export function watchExternalChanges(d: Designer) {
  d.host.onExternalChange(() => void onExternalChange(d));
}

async function onExternalChange(d: Designer) {
  // Our own save comes back as a change too: only a newer version than the one drawn counts.
  const [route, globals] = (await Promise.all([
    d.isNew ? Promise.resolve(null) : d.client.request('get', 'routes', { id: d.id }).catch(() => null),
    d.client.request('get', 'global-config'),
  ])) as [RouteDraft | null, { version?: number }];
  // Another page may have replaced this one while the answers came: it decides for itself.
  if (!d.root.isConnected || (route?.version === d.stored?.version && globals.version === d.global.version)) return;
  if (d.diffLines().some((l) => l.kind !== ' ') || document.querySelector('.designer-panel')) {
    d.externalChange = true;
    d.notice.hidden = false;
    return;
  }
  d.host.go(`#/routes/${encodeURIComponent(d.id)}`);
}
