/**
 * The route table: compiled from the enabled routes whenever configuration changes, it answers
 * "which route serves this host, path and method" from maps and pre-sorted arrays. Precedence:
 * an exact host beats a wildcard (`*.example.com`, longest suffix first) which beats `*`; within a
 * host the longest path prefix wins, and an exact-path domain beats a prefix of the same length.
 */
import type { IncomingMessage } from 'node:http';
import type { Route } from '../config/entities.js';
import type { Pipeline } from '../plugin-runtime/pipeline.js';
import type { UpstreamTarget } from './upstream.js';
import { WeightedRoundRobin } from './balancer.js';

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
}

interface Binding {
  /** Path prefix without trailing slash; '' matches everything. */
  prefix: string;
  exact: boolean;
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
        while (prefix.endsWith('/')) prefix = prefix.slice(0, -1);
        const binding: Binding = { prefix, exact: route.route.frontend.exact ?? false, route };
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

  match(host: string, path: string, method: string, req: IncomingMessage): RouteMatch | null {
    const exact = this.#exact.get(host);
    if (exact) {
      const found = matchBindings(exact, path, method, req);
      if (found) return found;
    }
    for (const wildcard of this.#wildcards) {
      if (host.length > wildcard.suffix.length && host.endsWith(wildcard.suffix)) {
        const found = matchBindings(wildcard.bindings, path, method, req);
        if (found) return found;
      }
    }
    return this.#any.length > 0 ? matchBindings(this.#any, path, method, req) : null;
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

function matchBindings(bindings: readonly Binding[], path: string, method: string, req: IncomingMessage): RouteMatch | null {
  for (let i = 0; i < bindings.length; i++) {
    const binding = bindings[i]!;
    if (!pathMatches(binding, path)) continue;
    const route = binding.route;
    if (route.methods !== null && !route.methods.has(method)) continue;
    if (route.headers.length > 0 && !route.headers.every(([name, value]) => req.headers[name] === value)) continue;
    if (route.query.length > 0 && !queryMatches(route.query, req.url ?? '')) continue;
    return { route, prefix: binding.prefix };
  }
  return null;
}

function pathMatches(binding: Binding, path: string): boolean {
  const prefix = binding.prefix;
  if (binding.exact) return path === prefix || (prefix === '' && path === '/') || path === prefix + '/';
  if (prefix === '') return true;
  return path.startsWith(prefix) && (path.length === prefix.length || path.charCodeAt(prefix.length) === 47 /* / */);
}

function queryMatches(required: ReadonlyArray<[string, string]>, url: string): boolean {
  const q = url.indexOf('?');
  if (q === -1) return false;
  const params = new URLSearchParams(url.slice(q + 1));
  return required.every(([name, value]) => params.get(name) === value);
}
