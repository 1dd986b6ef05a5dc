/**
 * Access rules with required scopes per method and path, shared by every plugin that checks a
 * bearer token's scopes (`jwt-verifier`, `oauth2-introspection`, `oauth2`): one schema for the
 * rules, one set of scope strategies, one matcher, so a rule means the same thing whichever plugin
 * carries it.
 *
 * Rules are compiled once per plugin instance and matched in order on the method and on the path
 * relative to the route (`ctx.routePath`: normalized, after stripPath, without the target's base
 * path), which is the path the upstream's own routes are written for.
 */
import { Type, type Static } from '@sinclair/typebox';
import { MAX_LIST_ITEMS, MAX_PATTERN_LENGTH } from '../config/entities.js';
import { anchoredRegex, regexProblem } from '../plugin-runtime/plugin-catalog.js';
import { ForbiddenError, InsufficientScopeError, type ErrorDetail } from '../errors.js';

export const AccessRuleSchema = Type.Object(
  {
    methods: Type.Array(Type.String({ pattern: '^[A-Z]+$', maxLength: 32 }), {
      title: 'Methods',
      default: [],
      maxItems: 32,
      description: 'Methods this rule applies to; empty for any.',
    }),
    path: Type.String({
      title: 'Path',
      minLength: 1,
      maxLength: MAX_PATTERN_LENGTH,
      default: '/.*',
      description:
        'Regular expression, anchored at both ends, on the path relative to the route, as the upstream receives it: `/post` for `/scoped/post` on the domain `localhost/scoped` (the full path when the route keeps its prefix, `stripPath: false`). Matched after normalization; case-insensitive when the route is.',
    }),
    requiredScopes: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), {
      title: 'Required scopes',
      default: [],
      maxItems: MAX_LIST_ITEMS,
      description: 'Scopes the token must grant; none: any valid token.',
    }),
    match: Type.Union([Type.Literal('all'), Type.Literal('any')], {
      title: 'Match',
      default: 'all',
      description: 'Whether all or any of the scopes are needed.',
    }),
  },
  { additionalProperties: false },
);
export type AccessRule = Static<typeof AccessRuleSchema>;

/** The `rules` field of a plugin config: ordered, deny by default, one allow-all rule when absent. */
export const AccessRulesSchema = Type.Array(AccessRuleSchema, {
  maxItems: 1000,
  default: [{ methods: [], path: '/.*', requiredScopes: [], match: 'all' }],
  description:
    'Ordered access rules; the first that matches method and path decides; a request no rule matches is refused (403).',
});

export const ScopeStrategySchema = Type.Union(
  [Type.Literal('exact'), Type.Literal('hierarchic'), Type.Literal('wildcard')],
  {
    default: 'exact',
    description: '`hierarchic`: `read` grants `read.users`; `wildcard`: `read.*` grants `read.users`.',
  },
);
/**
 * Scope matching strategies (as Ory Oathkeeper's): `exact`; `hierarchic`, where `read` grants
 * `read.users`; `wildcard`, where `read.*` grants `read.users`.
 */
export type ScopeStrategy = Static<typeof ScopeStrategySchema>;

export const ScopeClaimSchema = Type.String({
  minLength: 1,
  maxLength: 200,
  default: 'scope',
  description: 'Claim holding the scopes: a space-separated string (`scope`) or an array (`scp`).',
});

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

/**
 * Claim lookup. A token's claims are a plain parsed object, so `claims[name]` would find
 * `Object.prototype` members: a rule on a claim named `constructor` would pass for every token and
 * a scope claim named `toString` would read a function. Only the token's own claims count.
 */
export function claimOf(claims: object, name: string): unknown {
  return Object.hasOwn(claims, name) ? (claims as Record<string, unknown>)[name] : undefined;
}

/** The granted scopes of a token's claims: a space-separated string or an array, under `claim`. */
export function grantedScopes(claims: object, claim: string): string[] {
  const value = claimOf(claims, claim);
  if (typeof value === 'string') return value.split(' ').filter(Boolean);
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

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

/** The first rule matching the method and the route-relative path, or undefined. */
export function findRule(rules: readonly CompiledRule[], method: string, routePath: string): CompiledRule | undefined {
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    if ((rule.methods === null || rule.methods.has(method)) && rule.path.test(routePath)) return rule;
  }
  return undefined;
}

/** Write-time check of a config's rule paths (`checkConfig`), at `/<field>/<i>/path`. */
export function ruleProblems(rules: readonly { path: string }[], field = 'rules'): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  rules.forEach((rule, i) => {
    const problem = regexProblem(rule.path);
    if (problem) problems.push({ path: `/${field}/${i}/path`, message: problem });
  });
  return problems;
}

/** Whether the granted scopes satisfy the rule (all or any of its scopes, by the strategy). */
export function grantsRule(rule: CompiledRule, granted: readonly string[], matches: ScopeMatcher): boolean {
  const required = rule.requiredScopes;
  if (required.length === 0) return true;
  const all = rule.match === 'all';
  for (let i = 0; i < required.length; i++) {
    if (matches(granted, required[i]!) !== all) return !all;
  }
  return all;
}

/** The RFC 6750 `insufficient_scope` refusal for a rule the token does not satisfy. */
export function insufficientScope(rule: CompiledRule, realm: string): InsufficientScopeError {
  const scope = rule.requiredScopes.join(' ');
  const plural = rule.requiredScopes.length > 1;
  const message = `The token lacks the scope${plural ? 's' : ''} needed: ${scope}${rule.match === 'any' && plural ? ' (any of them)' : ''}`;
  return new InsufficientScopeError(message, scope, realm);
}

export interface AccessRuleOptions {
  /** The route's `frontend.caseSensitive` (`InstanceScope.caseSensitive`); default true. */
  caseSensitive?: boolean;
  scopeStrategy: ScopeStrategy;
  scopeClaim: string;
  realm: string;
}

/** Rules compiled with their scope strategy: `check` refuses or returns the rule that allowed. */
export interface AccessPolicy {
  /** The rule deciding this request, or undefined (refused: no rule allows it). */
  find(method: string, routePath: string): CompiledRule | undefined;
  /**
   * Throw the refusal for a token with these claims on this request: 403 `forbidden` when no rule
   * matches, 403 `insufficient_scope` with the challenge when the scopes fall short.
   */
  check(method: string, routePath: string, claims: object, scopes?: readonly string[]): CompiledRule;
  /**
   * The scopes the claims grant (the policy's scope claim), for a caller that checks the same claims
   * object many times (a verified-token cache): passed to `check`, they are not split again.
   */
  scopes(claims: object): readonly string[];
}

/** Compile a plugin's `rules` once (at `instantiate`), with its scope claim, strategy and realm. */
export function compileAccessPolicy(rules: readonly AccessRule[], options: AccessRuleOptions): AccessPolicy {
  const compiled = compileRules(rules, options.caseSensitive !== false);
  const matches = scopeMatcher(options.scopeStrategy);
  return {
    find: (method, routePath) => findRule(compiled, method, routePath),
    scopes: (claims) => grantedScopes(claims, options.scopeClaim),
    check(method, routePath, claims, scopes) {
      const rule = findRule(compiled, method, routePath);
      if (!rule) throw new ForbiddenError('No access rule allows this request');
      if (
        rule.requiredScopes.length > 0 &&
        !grantsRule(rule, scopes ?? grantedScopes(claims, options.scopeClaim), matches)
      )
        throw insufficientScope(rule, options.realm);
      return rule;
    },
  };
}
