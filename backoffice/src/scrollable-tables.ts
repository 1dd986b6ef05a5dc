// On a phone a table wider than the screen scrolls inside itself (app.css). One that holds nothing
// focusable could then not be scrolled from the keyboard: while it overflows it takes the focus
// itself (tabindex 0), and gives it up when it fits again.

const FOCUSABLE = 'a[href], button, input, select, textarea, [tabindex]';

/** Make the overflowing tables under `root` focusable, and only those. */
export function markScrollableTables(root: ParentNode): void {
  for (const table of root.querySelectorAll('table')) {
    const overflowing = table.scrollWidth > table.clientWidth + 1;
    const marked = table.dataset.scrollFocus === 'true';
    if (overflowing && !marked && !table.querySelector(FOCUSABLE)) {
      table.tabIndex = 0;
      table.dataset.scrollFocus = 'true';
    } else if (!overflowing && marked) {
      table.removeAttribute('tabindex');
      delete table.dataset.scrollFocus;
    }
  }
}

const view = document.getElementById('view');
if (view) {
  let scheduled = false;
  const check = () => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      markScrollableTables(view);
    });
  };
  new MutationObserver(check).observe(view, { childList: true, subtree: true });
  window.addEventListener('resize', check);
}
