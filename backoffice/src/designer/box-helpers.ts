// What the designer's boxes share: a click anywhere opening the box, the line saying where an
// instance runs.
import type { Instance } from './model.js';

/**
 * A click anywhere on a box opens it, except on its own controls.
 */
export function boxClick(open: () => void) {
  return (e: MouseEvent) => {
    const target = e.target as HTMLElement;
    if (target.closest('button:not(.box-open), input, label, a')) return;
    open();
  };
}

/**
 * Where an instance runs, from its include and exclude patterns.
 */
export function pathScope(instance: Instance, sink: boolean) {
  const where = sink ? 'full paths' : 'paths';
  const only = instance.include?.length
    ? `Only on ${where} ${instance.include.join(', ')}`
    : `On every ${sink ? 'request, before routing' : 'path'}`;
  return `${only}${instance.exclude?.length ? `; not on ${instance.exclude.join(', ')}` : ''}.`;
}
