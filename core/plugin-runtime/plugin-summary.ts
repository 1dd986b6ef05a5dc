/**
 * Small wording helpers for plugins' `describe(config)` one-liners (the route designer's boxes), so
 * every plugin words lists and durations alike.
 */

/** "a", "a or b", "a, b or c", "a, b, c or 2 more": at most `max` items named. */
export function listOf(items: readonly string[], conjunction: 'and' | 'or' = 'and', max = 3): string {
  if (items.length === 0) return '';
  const named = items.slice(0, max);
  const rest = items.length - named.length;
  const tail = rest > 0 ? `${rest} more` : named.pop()!;
  return named.length === 0 ? tail : `${named.join(', ')} ${conjunction} ${tail}`;
}

/** Seconds in the largest whole unit: "90 s", "2 min", "2 h", "14 d". */
export function duration(seconds: number): string {
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['min', 60],
  ] as const) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size} ${unit}`;
  }
  return `${seconds} s`;
}

/**
 * Schema options of a config field the route designer folds under "Advanced settings" (a JSON
 * Schema extension keyword, ignored by validation): `Type.Integer({ default: 600, ...ADVANCED })`.
 */
export const ADVANCED = { 'x-advanced': true } as const;
