/**
 * Per-key call quotas (per second, per UTC day, per UTC month), counted in memory for the embedded
 * store. A call is counted only when every window has room, so refused calls cost nothing.
 */
import { injectable } from 'tsyringe';
import type { ApiKey } from './entity.js';

interface Window {
  id: number;
  count: number;
}

export interface QuotaDecision {
  allowed: boolean;
  /** The tightest window: its limit and what remains after this call. */
  limit: number;
  remaining: number;
  /** Seconds until the tightest (or, when refused, the exhausted) window resets. */
  resetSeconds: number;
}

const DAY_MS = 86_400_000;

function monthId(now: number): number {
  const d = new Date(now);
  return d.getUTCFullYear() * 12 + d.getUTCMonth();
}

function monthEnd(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

@injectable()
export class QuotaCounters {
  readonly #windows = new Map<string, [Window, Window, Window]>();

  /** Check and, when allowed, count one call; null when the key has no quota. */
  consume(key: ApiKey, now = Date.now()): QuotaDecision | null {
    const perSecond = key.throttlingQuota ?? null;
    const perDay = key.dailyQuota ?? null;
    const perMonth = key.monthlyQuota ?? null;
    if (perSecond === null && perDay === null && perMonth === null) return null;
    let windows = this.#windows.get(key.clientId);
    if (!windows) {
      windows = [{ id: -1, count: 0 }, { id: -1, count: 0 }, { id: -1, count: 0 }];
      this.#windows.set(key.clientId, windows);
    }
    const ids = [Math.floor(now / 1000), Math.floor(now / DAY_MS), monthId(now)];
    const limits = [perSecond, perDay, perMonth];
    const resets = [Math.ceil((Math.floor(now / 1000) * 1000 + 1000 - now) / 1000), Math.ceil((Math.floor(now / DAY_MS) * DAY_MS + DAY_MS - now) / 1000), Math.ceil((monthEnd(now) - now) / 1000)];
    let tightest = -1;
    for (let i = 0; i < 3; i++) {
      const w = windows[i]!;
      if (w.id !== ids[i]) { w.id = ids[i]!; w.count = 0; }
      const limit = limits[i];
      if (limit === null || limit === undefined) continue;
      if (w.count >= limit) return { allowed: false, limit, remaining: 0, resetSeconds: Math.max(1, resets[i]!) };
      if (tightest === -1 || limit - w.count < limits[tightest]! - windows[tightest]!.count) tightest = i;
    }
    for (let i = 0; i < 3; i++) if (limits[i] !== null && limits[i] !== undefined) windows[i]!.count++;
    const limit = limits[tightest]!;
    return { allowed: true, limit, remaining: limit - windows[tightest]!.count, resetSeconds: Math.max(1, resets[tightest]!) };
  }

  /** Forget a key's counters (deleted key). */
  forget(clientId: string): void {
    this.#windows.delete(clientId);
  }
}
