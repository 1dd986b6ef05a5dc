// The designer's side panel: one at a time, on the right. Opening moves focus into it; Escape or
// "Close" closes it and gives focus back to what opened it (the caller's `onClose`).
import { h } from './dom.js';

let open: { element: HTMLElement; onClose: () => void } | null = null;

export function openSidePanel({
  host,
  opener,
  title,
  body,
  onClose,
  wide = false,
}: {
  host: HTMLElement;
  opener: string;
  title: string;
  body: import('./dom.js').Child;
  onClose: () => void;
  wide?: boolean;
}): HTMLElement {
  closeSidePanel(false);
  const heading = h('h2', { id: 'side-panel-title', tabindex: -1 }, title);
  const element = h(
    'div',
    {
      class: `designer-panel${wide ? ' wide' : ''}`,
      role: 'dialog',
      'aria-labelledby': 'side-panel-title',
      dataset: { opener },
    },
    h(
      'div',
      { class: 'panel-head' },
      heading,
      h(
        'button',
        { type: 'button', class: 'small', 'aria-label': `Close ${title}`, onclick: () => closeSidePanel(true) },
        'Close',
      ),
    ),
    h('div', { class: 'panel-body' }, body),
  );
  host.append(element);
  open = { element, onClose };
  // Focus the first field, so typing can start at once; the heading when there is none.
  const first = element.querySelector(
    '.panel-body input:not([type=hidden]), .panel-body select, .panel-body textarea',
  ) as HTMLElement | null;
  (first ?? heading).focus();
  return element;
}

/**
 * Close the open panel, if any; `restoreFocus`: give focus back to what opened it.
 */
export function closeSidePanel(restoreFocus: boolean) {
  if (!open) return;
  const { element, onClose } = open;
  open = null;
  element.remove();
  if (restoreFocus) onClose();
}

document.addEventListener('keydown', (e) => {
  // A modal <dialog> (the diff) handles its own Escape.
  if (e.key !== 'Escape' || !open || document.querySelector('dialog[open]')) return;
  e.preventDefault();
  closeSidePanel(true);
});
// A new page replaces the view: a panel left open would edit a draft that is gone.
window.addEventListener('hashchange', () => closeSidePanel(false));
