// Line diff of two JSON documents (the route before and after the designer's edits), drawn as a
// unified diff: lines added and removed, with a little context, so a save is reviewed before it runs.
import { h } from './dom.js';

export type DiffLine = { kind: ' ' | '+' | '-'; text: string };

/**
 * The lines of `before` and `after` (JSON, two-space indent) as kept, removed and added lines: a
 * longest common subsequence, which documents of a few hundred lines afford.
 */
export function jsonLineDiff(before: unknown, after: unknown): DiffLine[] {
  const a = before === undefined ? [] : JSON.stringify(before, null, 2).split('\n');
  const b = JSON.stringify(after, null, 2).split('\n');
  // common[i][j]: length of the longest common subsequence of a[i..] and b[j..]
  const common = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    const row = common[i] as Uint32Array;
    const next = common[i + 1] as Uint32Array;
    for (let j = b.length - 1; j >= 0; j--)
      row[j] = a[i] === b[j] ? (next[j + 1] as number) + 1 : Math.max(next[j] as number, row[j + 1] as number);
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      out.push({ kind: ' ', text: a[i] as string });
      i++;
      j++;
    } else if ((common[i + 1]?.[j] as number) >= (common[i]?.[j + 1] as number))
      out.push({ kind: '-', text: a[i++] as string });
    else out.push({ kind: '+', text: b[j++] as string });
  }
  while (i < a.length) out.push({ kind: '-', text: a[i++] as string });
  while (j < b.length) out.push({ kind: '+', text: b[j++] as string });
  return out;
}

export function diffStats(lines: DiffLine[]) {
  return { added: lines.filter((l) => l.kind === '+').length, removed: lines.filter((l) => l.kind === '-').length };
}

/**
 * The changed lines with `context` unchanged lines around each change; longer unchanged runs are
 * elided. Each line starts with its sign, so the diff reads without colours.
 */
export function diffView(lines: DiffLine[], context: number | undefined = 3): HTMLElement {
  const near = lines.map((_, i) => lines.slice(Math.max(0, i - context), i + context + 1).some((l) => l.kind !== ' '));
  const rows: HTMLElement[] = [];
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
