// @ts-check
// Line diff of two JSON documents (the route before and after the designer's edits), drawn as a
// unified diff: lines added and removed, with a little context, so a save is reviewed before it runs.
import { h } from './dom.js';

/** @typedef {{ kind: ' ' | '+' | '-', text: string }} DiffLine */

/**
 * The lines of `before` and `after` (JSON, two-space indent) as kept, removed and added lines: a
 * longest common subsequence, which documents of a few hundred lines afford.
 * @param {unknown} before
 * @param {unknown} after
 * @returns {DiffLine[]}
 */
export function jsonLineDiff(before, after) {
  const a = before === undefined ? [] : JSON.stringify(before, null, 2).split('\n');
  const b = JSON.stringify(after, null, 2).split('\n');
  // common[i][j]: length of the longest common subsequence of a[i..] and b[j..]
  const common = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    const row = /** @type {Uint32Array} */ (common[i]);
    const next = /** @type {Uint32Array} */ (common[i + 1]);
    for (let j = b.length - 1; j >= 0; j--)
      row[j] =
        a[i] === b[j]
          ? /** @type {number} */ (next[j + 1]) + 1
          : Math.max(/** @type {number} */ (next[j]), /** @type {number} */ (row[j + 1]));
  }
  /** @type {DiffLine[]} */
  const out = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      out.push({ kind: ' ', text: /** @type {string} */ (a[i]) });
      i++;
      j++;
    } else if (/** @type {number} */ (common[i + 1]?.[j]) >= /** @type {number} */ (common[i]?.[j + 1]))
      out.push({ kind: '-', text: /** @type {string} */ (a[i++]) });
    else out.push({ kind: '+', text: /** @type {string} */ (b[j++]) });
  }
  while (i < a.length) out.push({ kind: '-', text: /** @type {string} */ (a[i++]) });
  while (j < b.length) out.push({ kind: '+', text: /** @type {string} */ (b[j++]) });
  return out;
}

/** @param {DiffLine[]} lines */
export function diffStats(lines) {
  return { added: lines.filter((l) => l.kind === '+').length, removed: lines.filter((l) => l.kind === '-').length };
}

/**
 * The changed lines with `context` unchanged lines around each change; longer unchanged runs are
 * elided. Each line starts with its sign, so the diff reads without colours.
 * @param {DiffLine[]} lines
 * @param {number} [context]
 * @returns {HTMLElement}
 */
export function diffView(lines, context = 3) {
  const near = lines.map((_, i) => lines.slice(Math.max(0, i - context), i + context + 1).some((l) => l.kind !== ' '));
  /** @type {HTMLElement[]} */
  const rows = [];
  let skipped = 0;
  const flush = () => {
    if (skipped) rows.push(h('li', { class: 'diff-skip' }, `… ${skipped} unchanged line${skipped === 1 ? '' : 's'}`));
    skipped = 0;
  };
  lines.forEach((line, i) => {
    if (!near[i]) {
      skipped++;
      return;
    }
    flush();
    const cls = line.kind === '+' ? 'diff-add' : line.kind === '-' ? 'diff-del' : 'diff-same';
    rows.push(
      h(
        'li',
        { class: cls },
        h('span', { class: 'diff-sign', 'aria-hidden': 'true' }, line.kind),
        h('span', { class: 'visually-hidden' }, line.kind === '+' ? 'added: ' : line.kind === '-' ? 'removed: ' : ''),
        line.text,
      ),
    );
  });
  flush();
  return h('ol', { class: 'diff' }, rows);
}
