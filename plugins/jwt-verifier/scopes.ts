/**
 * Scope matching strategies (as Ory Oathkeeper's): `exact`; `hierarchic`, where `read` grants
 * `read.users`; `wildcard`, where `read.*` grants `read.users`.
 */
import { claimOf } from './claims.js';
export type ScopeStrategy = 'exact' | 'hierarchic' | 'wildcard';

export type ScopeMatcher = (granted: readonly string[], required: string) => boolean;

export function scopeMatcher(strategy: ScopeStrategy): ScopeMatcher {
  switch (strategy) {
    case 'exact':
      return (granted, required) => granted.includes(required);
    case 'hierarchic':
      return (granted, required) => granted.some((g) => g === required || required.startsWith(`${g}.`));
    case 'wildcard':
      return (granted, required) => granted.some((g) => g === required || wildcardMatches(g, required));
  }
}

function wildcardMatches(pattern: string, scope: string): boolean {
  const p = pattern.split('.');
  const s = scope.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '*') {
      if (i === p.length - 1) return s.length > i; // a trailing * covers one or more levels
      if (s[i] === undefined) return false;
      continue;
    }
    if (p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

/** The granted scopes of a payload: a space-separated string or an array, under `claim`. */
export function grantedScopes(payload: Record<string, unknown>, claim: string): string[] {
  const value = claimOf(payload, claim);
  if (typeof value === 'string') return value.split(' ').filter(Boolean);
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}
