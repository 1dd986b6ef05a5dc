/** Runtime state: short-lived shared data (quotas, sessions, one-time codes) behind one contract (`host.state`). */
export type {
  StateStore,
  StateNamespace,
  StateValue,
  StateWrite,
  QuotaWindow,
  QuotaDecision,
  WindowUsage,
} from '../state/state-store.js';
export { calendarWindows, rateLimitHeaders, type QuotaLimits } from '../state/quota-windows.js';
