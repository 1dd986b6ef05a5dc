/**
 * The scope a grant receives (RFC 6749 §3.3), by the two policies the authorities use: a route's
 * (`oauth2`: the route's scopes and the client's, none asked is none unless mandatory) and a
 * client's (`client-credentials`: the client's scopes, all of them when none is asked); and the
 * narrowing of a refresh (§6).
 */
import { InvalidScopeError } from '../errors.js';
import type { IndexedClient } from '../keys/clients.js';

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** How an authority grants scope to a client asking for `requested`; throws InvalidScopeError. */
export type ScopePolicy = (requested: string | undefined, client: IndexedClient) => string;

/** The asked scope tokens, refused when malformed. */
function askedScopes(requested: string): string[] {
  const asked = requested.split(' ').filter(Boolean);
  if (asked.length === 0 || asked.some((s) => !SCOPE_TOKEN.test(s)))
    throw new InvalidScopeError('The scope parameter is malformed');
  return asked;
}

/** A route's policy: each asked token allowed on the route and for the client; none asked is '' unless mandatory. */
export function routeScopePolicy(routeScopes: readonly string[], mandatory: boolean): ScopePolicy {
  const allowed = new Set(routeScopes);
  return (requested, client) => {
    const asked = requested === undefined ? [] : askedScopes(requested);
    if (asked.length === 0) {
      if (mandatory) throw new InvalidScopeError('A scope is required');
      return '';
    }
    const clientScopes = client.key.scopes ?? [];
    const refused = asked.filter((s) => !allowed.has(s) || (clientScopes.length > 0 && !clientScopes.includes(s)));
    if (refused.length > 0) throw new InvalidScopeError(`Scope not allowed: ${refused.join(' ')}`);
    return [...new Set(asked)].join(' ');
  };
}

/** A client's policy: what was asked, each within the client's scopes; all of them when none was asked. */
export const clientScopePolicy: ScopePolicy = (requested, client) => grantedScope(requested, client.key.scopes ?? []);

/** The scope granted: what was asked, each within `allowed`; all of them when none was asked. */
export function grantedScope(requested: string | undefined, allowed: readonly string[]): string {
  if (requested === undefined) return allowed.join(' ');
  const asked = askedScopes(requested);
  const outside = asked.filter((s) => !allowed.includes(s));
  if (outside.length > 0) throw new InvalidScopeError(`Scope not allowed for this client: ${outside.join(' ')}`);
  return [...new Set(asked)].join(' ');
}

/** RFC 6749 §6: a refresh may narrow the scope, never widen it. */
export function narrowedScope(requested: string | undefined, grantedBefore: string): string {
  if (requested === undefined) return grantedBefore;
  const granted = new Set(grantedBefore.split(' ').filter(Boolean));
  const asked = askedScopes(requested);
  const outside = asked.filter((s) => !granted.has(s));
  if (outside.length > 0) throw new InvalidScopeError(`Scope beyond the original grant: ${outside.join(' ')}`);
  return [...new Set(asked)].join(' ');
}
