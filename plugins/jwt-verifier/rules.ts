/**
 * Access rules, compiled once per instance and matched in order on the method and on the path
 * relative to the route (`ctx.routePath`: normalized, after stripPath, without the target's base
 * path), which is the path the upstream's own routes are written for.
 */
import { anchoredRegex } from '../../core/plugin-api.js';
import type { AccessRule } from './schema.js';

export interface CompiledRule {
  readonly methods: ReadonlySet<string> | null;
  readonly path: RegExp;
  readonly requiredScopes: readonly string[];
  readonly match: 'all' | 'any';
}

/** Compile rule paths once; `caseSensitive: false` (the route's setting) makes them ignore case. */
export function compileRules(rules: readonly AccessRule[], caseSensitive: boolean): CompiledRule[] {
  return rules.map((rule) => ({
    methods: rule.methods.length > 0 ? new Set(rule.methods) : null,
    path: anchoredRegex(rule.path, caseSensitive),
    requiredScopes: rule.requiredScopes,
    match: rule.match,
  }));
}

/** The first rule matching the method and the route-relative path, or undefined (deny). */
export function findRule(rules: readonly CompiledRule[], method: string, routePath: string): CompiledRule | undefined {
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    if ((rule.methods === null || rule.methods.has(method)) && rule.path.test(routePath)) return rule;
  }
  return undefined;
}
