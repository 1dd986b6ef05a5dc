/**
 * Runtime-state failures made visible: the state store the gateway hands out is the engine wrapped
 * so that every operation that rejects (the engine unreachable) is counted by operation. The
 * caller gets the engine's own promise; nothing else changes.
 *
 * The wrapper is an object literal typed as the contract (no cast, no list of names), so an
 * operation added to `StateNamespace` is a compile error here until it is forwarded: a list of
 * names once missed `setAll`, and every token issuance through the wrapper failed.
 */
import type { StateNamespace, StateStore } from '../state/state-store.js';

export function countStateErrors(store: StateStore, onError: (operation: string) => void): StateStore {
  const wrapped = new Map<StateNamespace, StateNamespace>();
  const counted = <T>(operation: string, result: Promise<T>): Promise<T> => {
    result.catch(() => onError(operation));
    return result;
  };
  const wrap = (ns: StateNamespace): StateNamespace => {
    const known = wrapped.get(ns);
    if (known) return known;
    const forwarding: StateNamespace = {
      get name() {
        return ns.name;
      },
      get durable() {
        return ns.durable;
      },
      get: (key) => counted('get', ns.get(key)),
      set: (key, value, ttlMs) => counted('set', ns.set(key, value, ttlMs)),
      setIfAbsent: (key, value, ttlMs) => counted('setIfAbsent', ns.setIfAbsent(key, value, ttlMs)),
      setAll: (entries) => counted('setAll', ns.setAll(entries)),
      delete: (key) => counted('delete', ns.delete(key)),
      consume: (key, windows, options) => counted('consume', ns.consume(key, windows, options)),
      entries: () => counted('entries', ns.entries()),
      publish: (channel, message) => counted('publish', ns.publish(channel, message)),
      subscribe: (channel, listener) => ns.subscribe(channel, listener),
      onResync: (listener) => ns.onResync(listener),
    };
    wrapped.set(ns, forwarding);
    return forwarding;
  };
  return {
    get kind() {
      return store.kind;
    },
    get location() {
      return store.location;
    },
    get ready() {
      return store.ready;
    },
    onReadyChange: (listener) => store.onReadyChange(listener),
    open: () => store.open(),
    namespace: (name, options) => wrap(store.namespace(name, options)),
    close: () => store.close(),
  };
}
