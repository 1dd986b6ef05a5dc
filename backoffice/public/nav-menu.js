// @ts-check
// The main navigation's menu button, shown on narrow screens (app.css decides when): it opens and
// closes the navigation, Escape closes it and gives the focus back, and following a link closes it.

/**
 * Wire the menu button of the top bar to the navigation it controls.
 * @param {HTMLButtonElement} button
 * @param {HTMLElement} nav
 */
export function wireNavMenu(button, nav) {
  const setOpen = (/** @type {boolean} */ open) => button.setAttribute('aria-expanded', String(open));
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
