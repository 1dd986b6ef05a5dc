/** Runtime state (revocations, quotas, sessions): the contract and the quota windows. The stores a gateway runs on are chosen in `config/stores.ts`. */
export type {
  StateStore,
  StateNamespace,
  StateValue,
  StateEntry,
  QuotaWindow,
  QuotaDecision,
  WindowUsage,
  ConsumeOptions,
  NamespaceOptions,
  MessageListener,
} from './state-store.js';
export { calendarWindows, rateLimitHeaders, type QuotaLimits } from './quota-windows.js';
