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
/** The gateway's one in-process cache, and its uses in front of the state store and of secret checks. */
export { ExpiringCache, sha256Key } from '../cache/expiring-cache.js';
export { RevocableCache } from '../cache/revocable-cache.js';
export { VerifiedSecrets } from '../cache/verified-secrets.js';
