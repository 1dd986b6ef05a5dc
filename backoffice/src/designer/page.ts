// The designer's page: its heading and actions, the toolbar (changes, review, discard) and the flow's
// container; the parts draw into them.
import { failure } from '../client.js';
import { h, toast } from '../dom.js';
import type { Designer } from './model.js';

/** Create the page's elements on `d` (the flow is drawn into `d.flow` by the layout). */
export function buildPage(d: Designer) {
  toolbar(d);
  d.deleteButton = d.isNew ? null : deleteButton(d);
  d.routeStrip = h('div', { class: 'route-strip' });
  d.title = h('h1', {}, d.isNew ? 'New route' : `Route: ${d.draft.name}`);
  d.root = h(
    'div',
    { class: 'designer' },
    h(
      'div',
      { class: 'page-head' },
      d.title,
      h(
        'div',
        { class: 'actions' },
        d.testButton,
        h('a', { class: 'button', href: `#/routes/${encodeURIComponent(d.id)}/form` }, 'Edit as form'),
        d.deleteButton,
      ),
    ),
    h(
      'p',
      { class: 'hint' },
      'Click a box to edit it in the side panel. Changes stay in this draft until you review and save them. Alt+↑ and Alt+↓ move the focused plugin earlier or later.',
    ),
    d.notice,
    d.general,
    h('div', { class: 'designer-toolbar' }, d.routeStrip, d.changes, d.reviewButton, d.discardButton),
    d.flow,
  );
}

function toolbar(d: Designer) {
  d.flow = h('div', { class: 'flow', role: 'group', 'aria-label': "The request's path through this route" });
  d.changes = h('p', { class: 'designer-changes', role: 'status' });
  d.general = h('div', { class: 'form-errors', role: 'alert', hidden: true });
  d.notice = h(
    'p',
    { class: 'warn-note', role: 'status', hidden: true },
    'This route or the global plugins changed elsewhere. Saving your draft will be refused as stale: discard it to see the new version.',
  );
  d.reviewButton = h(
    'button',
    { type: 'button', class: 'primary', onclick: () => d.review() },
    d.isNew ? 'Review and create…' : 'Review and save…',
  );
  d.discardButton = h(
    'button',
    { type: 'button', onclick: () => d.host.go(`#/routes/${encodeURIComponent(d.id)}`) },
    'Discard changes',
  );
  d.testButton = h(
    'button',
    {
      type: 'button',
      dataset: { opens: 'tester' },
      disabled: d.isNew,
      title: d.isNew ? 'Save the route first: the tester runs the saved route' : null,
      onclick: () => d.openTester(),
    },
    'Test this route',
  );
}

function deleteButton(d: Designer) {
  return h(
    'button',
    {
      type: 'button',
      class: 'danger',
      onclick: async () => {
        if (!confirm(`Delete the route ${d.draft.name}?`)) return;
        try {
          await d.client.request('delete', 'routes', { id: d.id });
          toast('Route deleted');
          d.host.go('#/routes');
        } catch (error) {
          toast(failure(error).message, 'bad');
        }
      },
    },
    'Delete',
  );
}
