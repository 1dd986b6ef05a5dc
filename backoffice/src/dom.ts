// Tiny DOM helpers: elements from tag, attributes and children; no HTML strings, so no injection.

export type Leaf = Node | string | number | boolean | null | undefined;
export type Child = Leaf | Leaf[] | Leaf[][];

/**
 * An element with attributes (`on…` handlers, `dataset`, DOM properties for non-strings) and children.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: (Record<string, unknown> | null) | undefined = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2).toLowerCase(), v as EventListener);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string') (el as unknown as Record<string, unknown>)[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const child of children.flat(Infinity) as Leaf[]) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/**
 * Preformatted text (JSON, a body) in a box that may scroll: focusable and named, so that keyboard
 * users can scroll it too (a scrolling region nobody can focus is out of their reach).
 */
export function codeBlock(text: string, label: string) {
  return h('pre', { tabindex: 0, role: 'region', 'aria-label': label }, text);
}

let toastTimer: ReturnType<typeof setTimeout> | undefined;
export function toast(message: string, kind: ('ok' | 'bad') | undefined = 'ok') {
  const box = document.getElementById('toast') as HTMLElement;
  box.textContent = message;
  box.className = `toast ${kind}`;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    box.hidden = true;
  }, 4000);
}

let uid = 0;
export const nextId = (prefix: string) => `${prefix}-${++uid}`;
