/**
 * Runtime-state failures made visible: the state store the gateway hands out is the engine wrapped
 * so that every operation that rejects (the engine unreachable) is counted by operation. The
 * caller gets the engine's own promise; nothing else changes.
 */
import type { StateNamespace, StateStore } from '../state/state-store.js';

const OPERATIONS = ['get', 'set', 'setIfAbsent', 'delete', 'consume', 'entries', 'publish'] as const;

export function countStateErrors(store: StateStore, onError: (operation: string) => void): StateStore {
  const wrapped = new Map<StateNamespace, StateNamespace>();
  const wrap = (ns: StateNamespace): StateNamespace => {
    let counted = wrapped.get(ns);
    if (counted) return counted;
    counted = {
      get name() { return ns.name; },
      get durable() { return ns.durable; },
      subscribe: (channel, listener) => ns.subscribe(channel, listener),
      onResync: (listener) => ns.onResync(listener),
    } as StateNamespace;
    for (const operation of OPERATIONS) {
      const original = (ns[operation] as (...args: unknown[]) => Promise<unknown>).bind(ns);
      (counted as unknown as Record<string, unknown>)[operation] = (...args: unknown[]) => {
        const result = original(...args);
        result.catch(() => onError(operation));
        return result;
      };
    }
    wrapped.set(ns, counted);
    return counted;
  };
  return {
    get kind() { return store.kind; },
    get location() { return store.location; },
    get ready() { return store.ready; },
    onReadyChange: (listener) => store.onReadyChange(listener),
    open: () => store.open(),
    namespace: (name, options) => wrap(store.namespace(name, options)),
    close: () => store.close(),
  };
}
