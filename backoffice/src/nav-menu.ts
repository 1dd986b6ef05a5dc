// The main navigation's menu button, shown on narrow screens (app.css decides when): it opens and
// closes the navigation, Escape closes it and gives the focus back, and following a link closes it.

/** Wire the menu button of the top bar to the navigation it controls. */
export function wireNavMenu(button: HTMLButtonElement, nav: HTMLElement): void {
  const setOpen = (open: boolean) => button.setAttribute('aria-expanded', String(open));
  button.addEventListener('click', () => setOpen(button.getAttribute('aria-expanded') !== 'true'));
  nav.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape' || button.getAttribute('aria-expanded') !== 'true') return;
    setOpen(false);
    button.focus();
  });
  window.addEventListener('hashchange', () => setOpen(false));
}

const button = document.querySelector('.menu-toggle');
const nav = document.getElementById('main-nav');
if (button instanceof HTMLButtonElement && nav) wireNavMenu(button, nav);
