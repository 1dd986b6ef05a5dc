/**
 * The route table: compiled from the enabled routes whenever configuration changes, it answers
 * "which route serves this host, path and method" from maps, at a cost that does not grow with the
 * number of routes. Precedence:
 * an exact host beats a wildcard (`*.example.com`, longest suffix first) which beats `*`; within a
 * host the longest path prefix wins, and an exact-path domain beats a prefix of the same length.
 * Paths are matched in their normalized form (request-path.ts), case-insensitively on routes with
 * `frontend.caseSensitive: false`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { RequestContext } from '../plugin-runtime/context.js';
import type { Route } from '../config/entities.js';
import type { Pipeline } from '../plugin-runtime/pipeline.js';
import type { UpstreamTarget } from './upstream.js';
import { WeightedRoundRobin } from './balancer.js';
import type { RouteMeters } from '../metrics/route-meters.js';
import { routeDomain } from '../config/request-path.js';
import { BadRequestError } from '../errors.js';

/** The 400 for `;` parameters on a route that does not allow them (the proxy and authorizer's, the tester's). */
export const PATH_PARAMETERS_REFUSED = 'Path parameters (";") are not accepted on this route';

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

declare module '../plugin-runtime/context.js' {
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
  /** Position in its host's precedence order (set when the host's bindings are sealed). */
  rank: number;
}

export interface RouteMatch {
  route: CompiledRoute;
  /** The matched path prefix ('' for none), removed when the route strips paths. */
  prefix: string;
}

/**
 * A lookup costs a few map reads whatever the table's size: the request host is looked up among
 * exact hosts, then each of its suffixes at a label boundary (longest first) among wildcard hosts,
 * then `*`; within a host, each prefix of the path at a segment boundary (longest first) is looked
 * up among that host's path prefixes. The precedence is the one stated above, the order a linear
 * scan of every binding would find (test/core/http/router.test.ts compares both on random tables).
 */
export class RouteTable {
  readonly #exact = new Map<string, HostBindings>();
  /** Wildcard hosts by suffix with its leading dot (`*.example.com` → `.example.com`). */
  readonly #wildcards = new Map<string, HostBindings>();
  /** `#wildcardLengths[n]`: some wildcard suffix is n characters long (no slice for other lengths). */
  readonly #wildcardLengths: Uint8Array;
  readonly #any: HostBindings | null;
  readonly size: number;
  /** Every compiled route, for inspection (tests, diagnostics); matching never reads it. */
  readonly routes: readonly CompiledRoute[];

  constructor(routes: readonly CompiledRoute[]) {
    this.routes = routes;
    let any: HostBindings | null = null;
    let longestSuffix = 0;
    for (const route of routes) {
      for (const domain of route.route.frontend.domains) {
        const { host, prefix } = routeDomain(domain);
        const binding: Binding = {
          prefix,
          exact: route.route.frontend.exact ?? false,
          caseSensitive: route.route.frontend.caseSensitive !== false,
          route,
          rank: 0,
        };
        if (host === '*') (any ??= new HostBindings()).add(binding);
        else if (host.startsWith('*.')) {
          const suffix = host.slice(1);
          longestSuffix = Math.max(longestSuffix, suffix.length);
          bindingsOf(this.#wildcards, suffix).add(binding);
        } else bindingsOf(this.#exact, host).add(binding);
      }
    }
    this.#wildcardLengths = new Uint8Array(longestSuffix + 1);
    for (const suffix of this.#wildcards.keys()) this.#wildcardLengths[suffix.length] = 1;
    for (const bindings of [...this.#exact.values(), ...this.#wildcards.values()]) bindings.seal();
    any?.seal();
    this.#any = any;
    this.size = routes.length;
  }

  /** `search` is the raw query string with its `?` (or ''); `headers` are the request's. */
  match(host: string, path: string, method: string, headers: IncomingHttpHeaders, search: string): RouteMatch | null {
    const exact = this.#exact.get(host);
    if (exact) {
      const found = exact.match(path, method, headers, search);
      if (found) return found;
    }
    if (this.#wildcards.size > 0) {
      // Suffixes starting at a dot after the first character (a wildcard never matches its bare
      // parent domain), the leftmost dot first: the longest suffix.
      const lengths = this.#wildcardLengths;
      for (let dot = host.indexOf('.', 1); dot !== -1; dot = host.indexOf('.', dot + 1)) {
        const length = host.length - dot;
        if (length >= lengths.length || lengths[length] === 0) continue;
        const bindings = this.#wildcards.get(host.slice(dot));
        if (bindings === undefined) continue;
        const found = bindings.match(path, method, headers, search);
        if (found) return found;
      }
    }
    return this.#any !== null ? this.#any.match(path, method, headers, search) : null;
  }
}

function bindingsOf(map: Map<string, HostBindings>, key: string): HostBindings {
  let bindings = map.get(key);
  if (bindings === undefined) map.set(key, (bindings = new HostBindings()));
  return bindings;
}

/**
 * The bindings of one host (an exact host, a wildcard suffix or `*`), indexed by path prefix:
 * case-sensitive prefixes by their text, the others by their ASCII lower case; every list holds
 * prefixes of one length, in precedence order (exact domains first, then by route id).
 */
class HostBindings {
  #pending: Binding[] | null = [];
  /** The bindings with the empty prefix (tried last). */
  #root: Binding[] = [];
  readonly #byPrefix = new Map<string, Binding[]>();
  readonly #byFoldedPrefix = new Map<string, Binding[]>();
  /** By prefix length: 1 when a case-sensitive prefix has that length, 2 a case-insensitive one (or both). */
  #lengths = new Uint8Array(1);

  add(binding: Binding): void {
    this.#pending!.push(binding);
  }

  seal(): void {
    const all = this.#pending!.sort(byPrecedence);
    this.#pending = null;
    let longest = 0;
    for (let i = 0; i < all.length; i++) {
      const binding = all[i]!;
      binding.rank = i;
      longest = Math.max(longest, binding.prefix.length);
      if (binding.prefix === '') this.#root.push(binding);
      else if (binding.caseSensitive) pushTo(this.#byPrefix, binding.prefix, binding);
      else pushTo(this.#byFoldedPrefix, asciiLowerCase(binding.prefix), binding);
    }
    this.#lengths = new Uint8Array(longest + 1);
    for (const binding of all)
      if (binding.prefix !== '') this.#lengths[binding.prefix.length]! |= binding.caseSensitive ? 1 : 2;
  }

  match(path: string, method: string, headers: IncomingHttpHeaders, search: string): RouteMatch | null {
    const lengths = this.#lengths;
    // The path's prefixes ending at a segment boundary (or at its end), longest first; lengths no
    // prefix has are skipped without building a string.
    for (let end = Math.min(path.length, lengths.length - 1); end > 0; end--) {
      const kinds = lengths[end]!;
      if (kinds === 0 || (end !== path.length && path.charCodeAt(end) !== 47) /* / */) continue;
      const prefix = end === path.length ? path : path.slice(0, end);
      const sensitive = (kinds & 1) !== 0 ? this.#byPrefix.get(prefix) : undefined;
      const folded = (kinds & 2) !== 0 ? this.#byFoldedPrefix.get(asciiLowerCase(prefix)) : undefined;
      const found =
        folded === undefined
          ? sensitive === undefined
            ? null
            : matchBindings(sensitive, path, method, headers, search)
          : sensitive === undefined
            ? matchBindings(folded, path, method, headers, search)
            : matchMerged(sensitive, folded, path, method, headers, search);
      if (found) return found;
    }
    return this.#root.length > 0 ? matchBindings(this.#root, path, method, headers, search) : null;
  }
}

function pushTo(map: Map<string, Binding[]>, key: string, binding: Binding): void {
  const list = map.get(key);
  if (list) list.push(binding);
  else map.set(key, [binding]);
}

function byPrecedence(a: Binding, b: Binding): number {
  return (
    b.prefix.length - a.prefix.length ||
    Number(b.exact) - Number(a.exact) ||
    (a.route.id < b.route.id ? -1 : a.route.id > b.route.id ? 1 : 0)
  );
}

/** ASCII letters only, as `startsWithIgnoringCase` compares: `toLowerCase` would fold more than that. */
function asciiLowerCase(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 65 && c <= 90) return text.replace(/[A-Z]+/g, (upper) => upper.toLowerCase());
  }
  return text;
}

/** Two lists of prefixes of the same length (case-sensitive and not), tried in their common precedence order. */
function matchMerged(
  a: readonly Binding[],
  b: readonly Binding[],
  path: string,
  method: string,
  headers: IncomingHttpHeaders,
  search: string,
): RouteMatch | null {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const binding = j >= b.length || (i < a.length && a[i]!.rank < b[j]!.rank) ? a[i++]! : b[j++]!;
    const found = matchBinding(binding, path, method, headers, search);
    if (found) return found;
  }
  return null;
}

function matchBindings(
  bindings: readonly Binding[],
  path: string,
  method: string,
  headers: IncomingHttpHeaders,
  search: string,
): RouteMatch | null {
  for (let i = 0; i < bindings.length; i++) {
    const found = matchBinding(bindings[i]!, path, method, headers, search);
    if (found) return found;
  }
  return null;
}

function matchBinding(
  binding: Binding,
  path: string,
  method: string,
  headers: IncomingHttpHeaders,
  search: string,
): RouteMatch | null {
  if (!pathMatches(binding, path)) return null;
  const route = binding.route;
  if (route.methods !== null && !route.methods.has(method)) return null;
  if (route.headers.length > 0 && !route.headers.every(([name, value]) => headers[name] === value)) return null;
  if (route.query.length > 0 && !queryMatches(route.query, search)) return null;
  return { route, prefix: binding.prefix };
}

function pathMatches(binding: Binding, path: string): boolean {
  const prefix = binding.prefix;
  if (binding.exact) {
    if (prefix === '') return path === '/' || path === '';
    if (path.length !== prefix.length && !(path.length === prefix.length + 1 && path.charCodeAt(prefix.length) === 47))
      return false;
  } else {
    if (prefix === '') return true;
    if (path.length < prefix.length || (path.length > prefix.length && path.charCodeAt(prefix.length) !== 47) /* / */)
      return false;
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
 * A path that had `;` parameters is refused (400) unless the route allows them.
 */
export function routeRequest(routes: RouteTable, ctx: RequestContext): CompiledRoute | null {
  const match = routes.match(ctx.host, ctx.path, ctx.method, ctx.headers, ctx.search);
  if (!match) return null;
  const route = match.route;
  refuseUnallowedPathParameters(ctx, route);
  ctx.route = route;
  ctx.routePrefix = match.prefix;
  if (route.stripPath && match.prefix !== '') {
    const rest = ctx.path.slice(match.prefix.length);
    ctx.upstreamPath = rest === '' ? '/' : rest;
  }
  ctx.routePath = ctx.upstreamPath;
  return route;
}

/**
 * `;` parameters were removed from `ctx.path`, which the rules match and the upstream receives;
 * a route that does not say it expects them refuses them rather than silently dropping them.
 */
export function refuseUnallowedPathParameters(ctx: RequestContext, route: CompiledRoute): void {
  if (ctx.pathParameters && route.route.frontend.allowPathParameters !== true)
    throw new BadRequestError(PATH_PARAMETERS_REFUSED);
}
