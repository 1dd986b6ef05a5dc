/**
 * The `local` fallback of apikeys quotas (per-process counting while the state store is down)
 * decides like the state store: allowed only when every window has room, refused calls not
 * counted, the headers from the decisive window.
 */
import 'reflect-metadata';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LocalQuotaCounters, quotaHeaders, quotaLimits } from '../../../plugins/apikeys/quotas.js';
import { calendarWindows } from '../../../core/plugin-api.js';
import type { ApiKey } from '../../../plugins/apikeys/entity.js';

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0, 250);

describe('Plugin: apikeys (local quota counting)', () => {
  it('allows exactly the limit, does not count refused calls, and starts each second afresh', () => {
    const counters = new LocalQuotaCounters();
    const windows = calendarWindows({ perSecond: 3, perDay: 5 }, NOW);
    const decisions = Array.from({ length: 5 }, () => counters.consume('k', windows, NOW));
    assert.deepEqual(
      decisions.map((d) => d.allowed),
      [true, true, true, false, false],
    );
    assert.deepEqual(
      decisions[4]!.windows.map((w) => w.count),
      [3, 3],
      'refused calls cost nothing',
    );
    assert.equal(decisions[4]!.retryAfterMs, 750);
    const next = NOW + 1000;
    const later = Array.from({ length: 3 }, () =>
      counters.consume('k', calendarWindows({ perSecond: 3, perDay: 5 }, next), next),
    );
    assert.deepEqual(
      later.map((d) => d.allowed),
      [true, true, false],
      'the next second has room, the day has 2 calls left',
    );
    assert.equal(later[2]!.windows[later[2]!.decisive]!.name, 'day');
  });

  it('keeps keys apart and forgets a deleted key', () => {
    const counters = new LocalQuotaCounters();
    const windows = calendarWindows({ perDay: 1 }, NOW);
    assert.equal(counters.consume('a', windows, NOW).allowed, true);
    assert.equal(counters.consume('b', windows, NOW).allowed, true);
    assert.equal(counters.consume('a', windows, NOW).allowed, false);
    counters.forget('a');
    assert.equal(counters.consume('a', windows, NOW).allowed, true);
  });

  it('sends RateLimit-* and Retry-After, and keeps the X-RateLimit-* pair', () => {
    const counters = new LocalQuotaCounters();
    const windows = calendarWindows({ perSecond: 1 }, NOW);
    assert.deepEqual(quotaHeaders(counters.consume('k', windows, NOW), NOW), {
      'ratelimit-limit': '1',
      'ratelimit-remaining': '0',
      'ratelimit-reset': '1',
      'x-ratelimit-limit': '1',
      'x-ratelimit-remaining': '0',
    });
    assert.equal(quotaHeaders(counters.consume('k', windows, NOW), NOW)['retry-after'], '1');
  });

  it('treats a key without any quota as unlimited (its calls never reach the state store)', () => {
    assert.equal(quotaLimits({ clientId: 'x' } as ApiKey), null);
    assert.deepEqual(quotaLimits({ clientId: 'x', monthlyQuota: 10 } as ApiKey), {
      perSecond: null,
      perDay: null,
      perMonth: 10,
    });
  });
});
