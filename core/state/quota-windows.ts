/**
 * The calendar side of quotas, kept out of the engines: the per-second, per-UTC-day and
 * per-UTC-month windows a call falls in, and the `Retry-After` / `RateLimit-*` headers of a
 * decision (draft-ietf-httpapi-ratelimit-headers, the form the apikeys plugin already sends).
 */
import type { QuotaDecision, QuotaWindow } from './state-store.js';

const SECOND_MS = 1000;
const DAY_MS = 86_400_000;

export interface QuotaLimits {
  perSecond?: number | null;
  perDay?: number | null;
  perMonth?: number | null;
}

/** The windows `now` falls in, one per limit that is set; empty when none is. */
export function calendarWindows(limits: QuotaLimits, now = Date.now()): QuotaWindow[] {
  const windows: QuotaWindow[] = [];
  if (limits.perSecond != null) {
    const start = Math.floor(now / SECOND_MS) * SECOND_MS;
    windows.push({ name: 'second', limit: limits.perSecond, start, end: start + SECOND_MS });
  }
  if (limits.perDay != null) {
    const start = Math.floor(now / DAY_MS) * DAY_MS;
    windows.push({ name: 'day', limit: limits.perDay, start, end: start + DAY_MS });
  }
  if (limits.perMonth != null) {
    const d = new Date(now);
    windows.push({
      name: 'month',
      limit: limits.perMonth,
      start: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1),
      end: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1),
    });
  }
  return windows;
}

/** `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (seconds, ≥ 1) and, when refused, `Retry-After`. */
export function rateLimitHeaders(decision: QuotaDecision, now = Date.now()): Record<string, string> {
  const window = decision.windows[decision.decisive]!;
  const headers: Record<string, string> = {
    'ratelimit-limit': String(window.limit),
    'ratelimit-remaining': String(window.remaining),
    'ratelimit-reset': String(Math.max(1, Math.ceil((window.end - now) / 1000))),
  };
  if (!decision.allowed) headers['retry-after'] = String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000)));
  return headers;
}
