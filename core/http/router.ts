/**
 * The route table: compiled from the enabled routes whenever configuration changes, it answers
 * "which route serves this host, path and method" from maps and pre-sorted arrays. Precedence:
 * an exact host beats a wildcard (`*.example.com`, longest suffix first) which beats `*`; within a
 * host the longest path prefix wins, and an exact-path domain beats a prefix of the same length.
 * Paths are matched in their normalized form (request-path.ts), case-insensitively on routes with
 * `frontend.caseSensitive: false`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { RequestContext } from './context.js';
import type { Route } from '../config/entities.js';
import type { Pipeline } from '../plugin-runtime/pipeline.js';
import type { UpstreamTarget } from './upstream.js';
import { WeightedRoundRobin } from './balancer.js';
import type { RouteMeters } from '../metrics/route-meters.js';
import { needsNormalization, normalizePath } from './request-path.js';

export interface CompiledRoute {
  readonly id: string;
  readonly route: Route;
  readonly tags: readonly string[];
  /** Null when the route could not be compiled (it then answers 503). */
  readonly pipeline: Pipeline | null;
  readonly balancer: WeightedRoundRobin<UpstreamTarget>;
  readonly methods: ReadonlySet<string> | null;
  readonly headers: ReadonlyArray<[string, string]>;
  readonly query: ReadonlyArray<[string, string]>;
  readonly stripPath: boolean;
  readonly rewriteHost: boolean;
  readonly headersTimeout: number;
  readonly bodyTimeout: number;
  /** `mode: "authorizer"`: no backend; the proxy listener refuses the route (421), the authorizer answers for it. */
  readonly authorizerOnly: boolean;
  /** The `X-Auth-Request-*` headers the authorizer listener answers for this route. */
  readonly identity: { readonly user: boolean; readonly emailHeader: string | null; readonly accessToken: boolean };
  /** What requests on this route add to the metrics (made at compile time). */
  readonly meters: RouteMeters;
}

declare module './context.js' {
  /** `ctx.route` is the compiled route the request matched. */
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface MatchedRoute extends CompiledRoute {}
}

interface Binding {
  /** Path prefix without trailing slash; '' matches everything. */
  prefix: string;
  exact: boolean;
  /** False: the prefix is compared ignoring ASCII case. */
  caseSensitive: boolean;
  route: CompiledRoute;
}

export interface RouteMatch {
  route: CompiledRoute;
  /** The matched path prefix ('' for none), removed when the route strips paths. */
  prefix: string;
}

export class RouteTable {
  readonly #exact = new Map<string, Binding[]>();
  readonly #wildcards: Array<{ suffix: string; bindings: Binding[] }> = [];
  readonly #any: Binding[] = [];
  readonly size: number;
  /** Every compiled route, for inspection (tests, diagnostics); matching never reads it. */
  readonly routes: readonly CompiledRoute[];

  constructor(routes: readonly CompiledRoute[]) {
    this.routes = routes;
    const wildcards = new Map<string, Binding[]>();
    for (const route of routes) {
      for (const domain of route.route.frontend.domains) {
        const slash = domain.indexOf('/');
        const host = (slash === -1 ? domain : domain.slice(0, slash)).toLowerCase();
        let prefix = slash === -1 ? '' : domain.slice(slash);
        // the prefix is compared with normalized paths, so it is normalized the same way
        if (needsNormalization(prefix)) prefix = normalizePath(prefix) ?? prefix;
        while (prefix.endsWith('/')) prefix = prefix.slice(0, -1);
        const binding: Binding = { prefix, exact: route.route.frontend.exact ?? false, caseSensitive: route.route.frontend.caseSensitive !== false, route };
        if (host === '*') this.#any.push(binding);
        else if (host.startsWith('*.')) pushTo(wildcards, host.slice(1), binding);
        else pushTo(this.#exact, host, binding);
      }
    }
    for (const [suffix, bindings] of wildcards) this.#wildcards.push({ suffix, bindings });
    this.#wildcards.sort((a, b) => b.suffix.length - a.suffix.length);
    for (const bindings of [...this.#exact.values(), ...wildcards.values(), this.#any]) bindings.sort(byPrecedence);
    this.size = routes.length;
  }

  /** `search` is the raw query string with its `?` (or ''); `headers` are the request's. */
  match(host: string, path: string, method: string, headers: IncomingHttpHeaders, search: string): RouteMatch | null {
    const exact = this.#exact.get(host);
    if (exact) {
      const found = matchBindings(exact, path, method, headers, search);
      if (found) return found;
    }
    for (const wildcard of this.#wildcards) {
      if (host.length > wildcard.suffix.length && host.endsWith(wildcard.suffix)) {
        const found = matchBindings(wildcard.bindings, path, method, headers, search);
        if (found) return found;
      }
    }
    return this.#any.length > 0 ? matchBindings(this.#any, path, method, headers, search) : null;
  }
}

function pushTo(map: Map<string, Binding[]>, key: string, binding: Binding): void {
  const list = map.get(key);
  if (list) list.push(binding);
  else map.set(key, [binding]);
}

function byPrecedence(a: Binding, b: Binding): number {
  return b.prefix.length - a.prefix.length || Number(b.exact) - Number(a.exact) || (a.route.id < b.route.id ? -1 : a.route.id > b.route.id ? 1 : 0);
}

function matchBindings(bindings: readonly Binding[], path: string, method: string, headers: IncomingHttpHeaders, search: string): RouteMatch | null {
  for (let i = 0; i < bindings.length; i++) {
    const binding = bindings[i]!;
    if (!pathMatches(binding, path)) continue;
    const route = binding.route;
    if (route.methods !== null && !route.methods.has(method)) continue;
    if (route.headers.length > 0 && !route.headers.every(([name, value]) => headers[name] === value)) continue;
    if (route.query.length > 0 && !queryMatches(route.query, search)) continue;
    return { route, prefix: binding.prefix };
  }
  return null;
}

function pathMatches(binding: Binding, path: string): boolean {
  const prefix = binding.prefix;
  if (binding.exact) {
    if (prefix === '') return path === '/' || path === '';
    if (path.length !== prefix.length && !(path.length === prefix.length + 1 && path.charCodeAt(prefix.length) === 47)) return false;
  } else {
    if (prefix === '') return true;
    if (path.length < prefix.length || (path.length > prefix.length && path.charCodeAt(prefix.length) !== 47 /* / */)) return false;
  }
  return binding.caseSensitive ? path.startsWith(prefix) : startsWithIgnoringCase(path, prefix);
}

/** ASCII case folding only: what case-insensitive servers (IIS, …) do for paths. */
function startsWithIgnoringCase(path: string, prefix: string): boolean {
  for (let i = 0; i < prefix.length; i++) {
    const a = path.charCodeAt(i);
    const b = prefix.charCodeAt(i);
    if (a === b) continue;
    const lower = a | 0x20;
    if (lower !== (b | 0x20) || lower < 97 || lower > 122) return false;
  }
  return true;
}

function queryMatches(required: ReadonlyArray<[string, string]>, search: string): boolean {
  if (search === '') return false;
  const params = new URLSearchParams(search.slice(1));
  return required.every(([name, value]) => params.get(name) === value);
}

/**
 * Route a request: match its host, normalized path, method, headers and query, then set
 * `ctx.route`, `ctx.upstreamPath` (the prefix removed when the route strips it) and `ctx.routePath`.
 * The proxy and the authorizer listener both route through here, so they decide on the same route.
 */
export function routeRequest(routes: RouteTable, ctx: RequestContext): CompiledRoute | null {
  const match = routes.match(ctx.host, ctx.path, ctx.method, ctx.req.headers, ctx.search);
  if (!match) return null;
  const route = match.route;
  ctx.route = route;
  ctx.routePrefix = match.prefix;
  if (route.stripPath && match.prefix !== '') {
    const rest = ctx.path.slice(match.prefix.length);
    ctx.upstreamPath = rest === '' ? '/' : rest;
  }
  ctx.routePath = ctx.upstreamPath;
  return route;
}
