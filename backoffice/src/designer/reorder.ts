// Moving a plugin instance earlier or later among those that share a step with it (the buttons,
// Alt+↑/↓ and drag and drop all come here).
import { toast } from '../dom.js';
import type { Instance, Designer } from './model.js';

/**
 * The nearest instance before (-1) or after (+1) `index` that shares a step with it: moving past
 * one that runs in other steps would change nothing the request sees.
 */
export function neighbour(d: Designer, index: number, direction: -1 | 1): number {
  const steps = d.pluginInfo((d.draft.plugins[index] as Instance).plugin)?.steps ?? [];
  for (let j = index + direction; j >= 0 && j < d.draft.plugins.length; j += direction) {
    const other = d.pluginInfo((d.draft.plugins[j] as Instance).plugin)?.steps ?? [];
    if (other.some((s) => steps.includes(s))) return j;
  }
  return -1;
}

export function move(d: Designer, instance: Instance, direction: -1 | 1) {
  const index = d.draft.plugins.indexOf(instance);
  const target = neighbour(d, index, direction);
  if (target === -1) return;
  d.draft.plugins.splice(index, 1);
  d.draft.plugins.splice(target, 0, instance);
  d.changed();
  d.focusBox(d.keyOf(instance));
  toast(`${d.nameOf(instance)} moved ${direction < 0 ? 'earlier' : 'later'} (not saved yet)`);
}
