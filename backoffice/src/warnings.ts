// Configuration warnings in the back office (core/compiler/warnings.ts decides them): what a draft
// would have once saved, a note in words beside the field a warning names, and a warning's one-click
// fix applied to an entity.
import { h, type Child } from './dom.js';
import type { Client } from './client.js';
import type { ConfigWarning } from '../../core/compiler/warnings.js';
import type { JsonObject } from './form.js';

export type { ConfigWarning };

/** The warnings that would concern a route draft once saved; none while the draft is not a valid route yet. */
export async function draftWarnings(client: Client, draft: JsonObject): Promise<ConfigWarning[]> {
  if (!draft.id) return [];
  try {
    return (await client.request('action', 'warnings', { action: 'route', body: draft })) as ConfigWarning[];
  } catch {
    return []; // refused drafts show their problems when saved; a warning is a convenience
  }
}

/** A warning in words, with what comes after it (a fix button). */
export function warningNote(warning: ConfigWarning, after: Child = null): HTMLElement {
  return h(
    'div',
    { class: 'warning-note', dataset: { warning: warning.code } },
    h('p', {}, h('strong', {}, 'Warning: '), warning.message),
    after,
  );
}

/**
 * Put a note for each warning under `base` (a JSON pointer in the entity, `/frontend`) beside the
 * field a form drew for it: the field of its path, else of its nearest parent; notes placed earlier
 * are replaced.
 */
export function placeWarnings(form: HTMLElement, warnings: readonly ConfigWarning[], base: string): void {
  for (const old of form.querySelectorAll('.warning-note.placed')) old.remove();
  for (const warning of warnings) {
    if (!warning.path.startsWith(`${base}/`)) continue;
    let path = warning.path.slice(base.length);
    let field: Element | null = null;
    while (path && !(field = form.querySelector(`[data-path="${CSS.escape(path)}"]`)))
      path = path.slice(0, path.lastIndexOf('/'));
    const note = warningNote(warning);
    note.classList.add('placed');
    (field ?? form).append(note);
  }
}

/** An entity with a fix's JSON Patch applied (`add`: set the member, creating nothing else). */
export function applyFix<T extends object>(entity: T, fix: NonNullable<ConfigWarning['fix']>): T {
  const copy = structuredClone(entity) as Record<string, unknown>;
  for (const { path, value } of fix.patch) {
    const keys = path
      .split('/')
      .slice(1)
      .map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = keys.pop();
    const parent = keys.reduce<unknown>((node, key) => (node as Record<string, unknown>)?.[key], copy);
    if (last === undefined || typeof parent !== 'object' || parent === null) continue;
    (parent as Record<string, unknown>)[last] = value;
  }
  return copy as T;
}

/** The warnings on one plugin instance of an entity (`/plugins/<index>/…`). */
export function instanceWarnings(warnings: readonly ConfigWarning[], index: number): ConfigWarning[] {
  return warnings.filter((w) => w.path.startsWith(`/plugins/${index}/`));
}

/** A note for a warning with its fix as a button (the fix is applied by `onFix`, which saves). */
export function fixableNote(
  warning: ConfigWarning,
  onFix: (fix: NonNullable<ConfigWarning['fix']>) => void,
): HTMLElement {
  const { fix } = warning;
  return warningNote(
    warning,
    fix ? h('button', { type: 'button', class: 'small', onclick: () => onFix(fix) }, fix.label) : null,
  );
}

export interface DraftWarnings {
  readonly warnings: readonly ConfigWarning[];
  refresh(): void;
}

/**
 * Keeps a route draft's warnings fresh: `refresh()` after each change asks again (debounced, the
 * server decides), `onChange` runs when the answer differs from the last one.
 */
export function draftWarningsWatcher(client: Client, read: () => JsonObject, onChange: () => void): DraftWarnings {
  let current: ConfigWarning[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const update = async () => {
    const next = await draftWarnings(client, read());
    if (JSON.stringify(next) === JSON.stringify(current)) return;
    current = next;
    onChange();
  };
  return {
    get warnings(): readonly ConfigWarning[] {
      return current;
    },
    refresh(): void {
      clearTimeout(timer);
      timer = setTimeout(() => void update(), 150);
    },
  };
}
