/**
 * Per-key call quotas (per second, per UTC day, per UTC month) in the runtime state store: one
 * atomic `consume` per decision over the key's calendar windows, exact across processes (embedded
 * engine) and instances (Redis); a refused call is not counted. When the state store cannot be
 * reached, the route's `onStateError` decides: `deny` (503 `state_unavailable`), `allow`, or
 * `local` (counted in this process only, as before the state store existed). Each such decision is
 * counted (`stateErrors`, for metrics) and logged at most once per `LOG_EVERY_MS`.
 */
import type { Logger } from 'pino';
import {
  serviceToken,
  StateUnavailableError,
  TooManyRequestsError,
  calendarWindows,
  rateLimitHeaders,
} from '../../core/plugin-api.js';
import type {
  QuotaDecision,
  QuotaLimits,
  QuotaWindow,
  ServiceToken,
  StateNamespace,
  StateStore,
  WindowUsage,
} from '../../core/plugin-api.js';
import type { ApiKey } from './entity.js';

export type OnStateError = 'deny' | 'allow' | 'local';

const LOG_EVERY_MS = 10_000;

/** The key's limits, or null when it has none (its calls never touch the state store). */
export function quotaLimits(key: ApiKey): QuotaLimits | null {
  if (key.throttlingQuota == null && key.dailyQuota == null && key.monthlyQuota == null) return null;
  return { perSecond: key.throttlingQuota ?? null, perDay: key.dailyQuota ?? null, perMonth: key.monthlyQuota ?? null };
}

/**
 * The headers of a decision: `RateLimit-*` (and `Retry-After` when refused) from the state
 * contract, plus the `X-RateLimit-*` pair this plugin sent before them.
 */
export function quotaHeaders(decision: QuotaDecision, now = Date.now()): Record<string, string> {
  const headers = rateLimitHeaders(decision, now);
  headers['x-ratelimit-limit'] = headers['ratelimit-limit']!;
  headers['x-ratelimit-remaining'] = headers['ratelimit-remaining']!;
  return headers;
}

/**
 * In-process counters with the state store's rule (allowed only when every window has room, a
 * refused call not counted): the `local` fallback. Counters of ended windows are dropped as the
 * map is swept, so it holds at most the keys of the current windows.
 */
export class LocalQuotaCounters {
  readonly #counts = new Map<string, { count: number; end: number }>();
  #nextSweep = 0;

  consume(key: string, windows: readonly QuotaWindow[], now = Date.now()): QuotaDecision {
    if (now >= this.#nextSweep) {
      for (const [k, c] of this.#counts) if (c.end <= now) this.#counts.delete(k);
      this.#nextSweep = now + 1000;
    }
    const ids = windows.map((w) => `${key}|${w.name}|${w.start}`);
    const before = ids.map((id) => this.#counts.get(id)?.count ?? 0);
    const allowed = windows.every((w, i) => before[i]! + 1 <= w.limit);
    if (allowed) {
      windows.forEach((w, i) => this.#counts.set(ids[i]!, { count: before[i]! + 1, end: w.end }));
    }
    const usage: WindowUsage[] = windows.map((w, i) => {
      const count = before[i]! + (allowed ? 1 : 0);
      return { name: w.name, limit: w.limit, count, remaining: Math.max(0, w.limit - count), end: w.end };
    });
    let decisive = 0;
    if (allowed) {
      usage.forEach((u, i) => {
        if (u.remaining < usage[decisive]!.remaining) decisive = i;
      });
    } else {
      decisive = -1;
      windows.forEach((w, i) => {
        if (before[i]! + 1 > w.limit && (decisive === -1 || w.end > windows[decisive]!.end)) decisive = i;
      });
    }
    return { allowed, windows: usage, decisive, retryAfterMs: allowed ? 0 : Math.max(0, windows[decisive]!.end - now) };
  }

  forget(clientId: string): void {
    for (const k of this.#counts.keys()) if (k.startsWith(`${clientId}|`)) this.#counts.delete(k);
  }
}

/** The quota counters of this gateway's keys (provided for operators and tests that read them). */
export const QUOTA_SERVICE: ServiceToken<QuotaService> = serviceToken('apikeys.QuotaService');

export class QuotaService {
  readonly #state: StateStore;
  readonly #log: Logger;
  #namespace: StateNamespace | null = null;
  readonly #local = new LocalQuotaCounters();
  /** Decisions taken while the state store was unreachable, by policy (exposed to metrics). */
  readonly stateErrors: Record<OnStateError, number> = { deny: 0, allow: 0, local: 0 };
  #lastLogged = -Infinity;
  #unlogged = 0;

  constructor(state: StateStore, log: Logger) {
    this.#state = state;
    this.#log = log.child({ component: 'apikeys-quotas' });
  }

  /**
   * Count one call of `clientId` against `limits`: resolves with the response headers when
   * allowed, rejects with TooManyRequestsError (429) when over a quota, or with
   * StateUnavailableError (503) when the state store is unreachable and the policy is `deny`.
   */
  async consume(
    clientId: string,
    limits: QuotaLimits,
    onStateError: OnStateError,
    now = Date.now(),
  ): Promise<Record<string, string>> {
    const windows = calendarWindows(limits, now);
    let decision: QuotaDecision;
    try {
      decision = await (this.#namespace ??= this.#state.namespace('quotas')).consume(clientId, windows, { now });
    } catch (error) {
      if (!(error instanceof StateUnavailableError)) throw error;
      this.#stateError(onStateError, error);
      if (onStateError === 'deny') throw error;
      if (onStateError === 'allow') return {};
      decision = this.#local.consume(clientId, windows, now);
    }
    const headers = quotaHeaders(decision, now);
    if (!decision.allowed) throw new TooManyRequestsError('Quota exceeded for this API key', headers);
    return headers;
  }

  /** Forget a deleted key's local counters (the shared ones expire with their windows). */
  forget(clientId: string): void {
    this.#local.forget(clientId);
  }

  #stateError(policy: OnStateError, error: Error): void {
    this.stateErrors[policy]++;
    const now = Date.now();
    if (now - this.#lastLogged < LOG_EVERY_MS) {
      this.#unlogged++;
      return;
    }
    this.#log.warn(
      { policy, decisionsSinceLastLog: this.#unlogged + 1, err: error },
      `quota state store unreachable; decisions follow onStateError=${policy}`,
    );
    this.#lastLogged = now;
    this.#unlogged = 0;
  }
}
