// @ts-check
// Tiny DOM helpers: elements from tag, attributes and children; no HTML strings, so no injection.

/** @typedef {Node | string | number | boolean | null | undefined} Leaf */
/** @typedef {Leaf | Leaf[] | Leaf[][]} Child */

/**
 * An element with attributes (`on…` handlers, `dataset`, DOM properties for non-strings) and children.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, unknown> | null} [attrs]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2).toLowerCase(), /** @type {EventListener} */ (v));
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string')
      /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (el))[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const child of /** @type {Leaf[]} */ (children.flat(Infinity))) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/**
 * Preformatted text (JSON, a body) in a box that may scroll: focusable and named, so that keyboard
 * users can scroll it too (a scrolling region nobody can focus is out of their reach).
 * @param {string} text
 * @param {string} label
 */
export function codeBlock(text, label) {
  return h('pre', { tabindex: 0, role: 'region', 'aria-label': label }, text);
}

/** @type {ReturnType<typeof setTimeout> | undefined} */
let toastTimer;
/**
 * @param {string} message
 * @param {'ok' | 'bad'} [kind]
 */
export function toast(message, kind = 'ok') {
  const box = /** @type {HTMLElement} */ (document.getElementById('toast'));
  box.textContent = message;
  box.className = `toast ${kind}`;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    box.hidden = true;
  }, 4000);
}

let uid = 0;
export const nextId = (/** @type {string} */ prefix) => `${prefix}-${++uid}`;
