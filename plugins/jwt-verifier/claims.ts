/**
 * Claim lookup. A JWT payload is a plain parsed object, so `payload[name]` would find
 * `Object.prototype` members: a rule on a claim named `constructor` would pass for every token and
 * a scope claim named `toString` would read a function. Only the token's own claims count.
 */
export function claimOf(payload: object, name: string): unknown {
  return Object.hasOwn(payload, name) ? (payload as Record<string, unknown>)[name] : undefined;
}
