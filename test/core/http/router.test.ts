/**
 * The indexed route table answers what a linear scan of every binding in precedence order answers
 * (the reference below is the router as it was before its index): random tables of exact,
 * wildcard and `*` hosts, path prefixes of both case sensitivities, exact-path domains, methods,
 * headers and query filters, looked up with random hosts, paths, methods, headers and queries.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { IncomingHttpHeaders } from 'node:http';
import { RouteTable, type CompiledRoute } from '../../../core/compiler/router.js';
import { needsNormalization, normalizePath } from '../../../core/config/request-path.js';
import { fuzzSeed } from '../../helpers/fuzz.js';

interface RouteSpec {
  id: string;
  domains: string[];
  exact: boolean;
  caseSensitive: boolean;
  methods: string[];
  headers: Array<[string, string]>;
  query: Array<[string, string]>;
}

function compiled(spec: RouteSpec): CompiledRoute {
  return {
    id: spec.id,
    route: { id: spec.id, frontend: { domains: spec.domains, exact: spec.exact, caseSensitive: spec.caseSensitive } },
    tags: [],
    methods: spec.methods.length > 0 ? new Set(spec.methods) : null,
    headers: spec.headers,
    query: spec.query,
  } as unknown as CompiledRoute;
}

/** The reference: every binding of the host's level, sorted by precedence, tried one after the other. */
function referenceMatch(
  routes: readonly CompiledRoute[],
  host: string,
  path: string,
  method: string,
  headers: IncomingHttpHeaders,
  search: string,
): { id: string; prefix: string } | null {
  interface Binding {
    prefix: string;
    exact: boolean;
    caseSensitive: boolean;
    route: CompiledRoute;
  }
  const exact = new Map<string, Binding[]>();
  const wildcards = new Map<string, Binding[]>();
  const any: Binding[] = [];
  const push = (map: Map<string, Binding[]>, key: string, b: Binding) => {
    const list = map.get(key);
    if (list) list.push(b);
    else map.set(key, [b]);
  };
  for (const route of routes) {
    for (const domain of route.route.frontend.domains) {
      const slash = domain.indexOf('/');
      const h = (slash === -1 ? domain : domain.slice(0, slash)).toLowerCase();
      let prefix = slash === -1 ? '' : domain.slice(slash);
      if (needsNormalization(prefix)) prefix = normalizePath(prefix) ?? prefix;
      while (prefix.endsWith('/')) prefix = prefix.slice(0, -1);
      const b = {
        prefix,
        exact: route.route.frontend.exact ?? false,
        caseSensitive: route.route.frontend.caseSensitive !== false,
        route,
      };
      if (h === '*') any.push(b);
      else if (h.startsWith('*.')) push(wildcards, h.slice(1), b);
      else push(exact, h, b);
    }
  }
  const order = (a: Binding, b: Binding) =>
    b.prefix.length - a.prefix.length ||
    Number(b.exact) - Number(a.exact) ||
    (a.route.id < b.route.id ? -1 : a.route.id > b.route.id ? 1 : 0);
  const startsWith = (p: string, prefix: string, sensitive: boolean) => {
    if (sensitive) return p.startsWith(prefix);
    for (let i = 0; i < prefix.length; i++) {
      const a = p.charCodeAt(i);
      const c = prefix.charCodeAt(i);
      if (a === c) continue;
      const lower = a | 0x20;
      if (lower !== (c | 0x20) || lower < 97 || lower > 122) return false;
    }
    return true;
  };
  const pathMatches = (b: Binding) => {
    if (b.exact) {
      if (b.prefix === '') return path === '/' || path === '';
      if (path.length !== b.prefix.length && !(path.length === b.prefix.length + 1 && path[b.prefix.length] === '/'))
        return false;
    } else {
      if (b.prefix === '') return true;
      if (path.length < b.prefix.length || (path.length > b.prefix.length && path[b.prefix.length] !== '/'))
        return false;
    }
    return startsWith(path, b.prefix, b.caseSensitive);
  };
  const scan = (bindings: Binding[]) => {
    for (const b of [...bindings].sort(order)) {
      if (!pathMatches(b)) continue;
      const r = b.route;
      if (r.methods !== null && !r.methods.has(method)) continue;
      if (!r.headers.every(([name, value]) => headers[name] === value)) continue;
      if (
        r.query.length > 0 &&
        (search === '' || !r.query.every(([name, value]) => new URLSearchParams(search.slice(1)).get(name) === value))
      )
        continue;
      return { id: r.id, prefix: b.prefix };
    }
    return null;
  };
  const levels: Binding[][] = [];
  if (exact.has(host)) levels.push(exact.get(host)!);
  for (const suffix of [...wildcards.keys()].sort((a, b) => b.length - a.length)) {
    if (host.length > suffix.length && host.endsWith(suffix)) levels.push(wildcards.get(suffix)!);
  }
  levels.push(any);
  for (const level of levels) {
    const found = scan(level);
    if (found) return found;
  }
  return null;
}

// Small alphabets, so that random tables and requests collide often.
const label = fc.constantFrom('a', 'b', 'x', 'api', 'A');
const hostArb = fc.array(label, { minLength: 1, maxLength: 4 }).map((labels) => labels.join('.'));
const segment = fc.constantFrom('v1', 'V1', 'v10', 'users', 'Users', 'a', 'ab', '%41', '..', '.');
const pathArb = fc
  .tuple(fc.array(segment, { maxLength: 4 }), fc.boolean())
  .map(([segments, slash]) => `/${segments.join('/')}${slash && segments.length > 0 ? '/' : ''}`);
const domainArb = fc
  .tuple(
    fc.oneof(
      hostArb,
      hostArb.map((h) => `*.${h}`),
      fc.constant('*'),
    ),
    fc.option(pathArb, { nil: undefined }),
  )
  .map(([host, path]) => (path === undefined ? host : `${host}${path}`));
const pairArb = fc.tuple(fc.constantFrom('x-t', 'x-u'), fc.constantFrom('1', '2'));
const routesArb = fc.uniqueArray(
  fc.record({
    id: fc.constantFrom('r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8', 'r9', 'R1', 'ra'),
    domains: fc.array(domainArb, { minLength: 1, maxLength: 3 }),
    exact: fc.boolean(),
    caseSensitive: fc.boolean(),
    methods: fc.subarray(['GET', 'POST']),
    headers: fc.array(pairArb, { maxLength: 1 }),
    query: fc.array(
      pairArb.map(([n, v]) => [n.slice(2), v] as [string, string]),
      { maxLength: 1 },
    ),
  }),
  { selector: (r) => r.id, maxLength: 12 },
);
const requestArb = fc.record({
  host: fc
    .oneof(
      hostArb,
      hostArb.map((h) => `q.${h}`),
    )
    .map((h) => h.toLowerCase()),
  path: fc.oneof(
    pathArb.map((p) => normalizePath(p) ?? p),
    fc.constant(''),
  ),
  method: fc.constantFrom('GET', 'POST'),
  headers: fc.array(pairArb, { maxLength: 2 }).map((pairs) => Object.fromEntries(pairs) as IncomingHttpHeaders),
  search: fc.constantFrom('', '?t=1', '?u=2&t=2', '?'),
});

describe('Route table (indexed lookups)', () => {
  it('chooses the route a linear scan in precedence order chooses, on random tables and requests', () => {
    fc.assert(
      fc.property(routesArb, fc.array(requestArb, { minLength: 1, maxLength: 20 }), (specs, requests) => {
        const routes = specs.map(compiled);
        const table = new RouteTable(routes);
        for (const r of requests) {
          const found = table.match(r.host, r.path, r.method, r.headers, r.search);
          const expected = referenceMatch(routes, r.host, r.path, r.method, r.headers, r.search);
          assert.deepEqual(
            found === null ? null : { id: found.route.id, prefix: found.prefix },
            expected,
            `${r.method} ${r.host}${r.path}${r.search}`,
          );
        }
      }),
      { numRuns: 3000, seed: fuzzSeed() },
    );
  });

  const table = new RouteTable([
    compiled({
      id: 'exact',
      domains: ['api.example.com'],
      exact: false,
      caseSensitive: true,
      methods: [],
      headers: [],
      query: [],
    }),
    compiled({
      id: 'wild',
      domains: ['*.example.com'],
      exact: false,
      caseSensitive: true,
      methods: [],
      headers: [],
      query: [],
    }),
    compiled({
      id: 'deep',
      domains: ['*.eu.example.com/v1'],
      exact: false,
      caseSensitive: true,
      methods: [],
      headers: [],
      query: [],
    }),
    compiled({
      id: 'insensitive',
      domains: ['shop.example.com/Admin'],
      exact: false,
      caseSensitive: false,
      methods: [],
      headers: [],
      query: [],
    }),
    compiled({
      id: 'sensitive',
      domains: ['shop.example.com/admin'],
      exact: false,
      caseSensitive: true,
      methods: [],
      headers: [],
      query: [],
    }),
    compiled({
      id: 'status',
      domains: ['shop.example.com/status'],
      exact: true,
      caseSensitive: true,
      methods: [],
      headers: [],
      query: [],
    }),
  ]);
  const idOf = (host: string, path: string) => table.match(host, path, 'GET', {}, '')?.route.id ?? null;

  it('tries wildcard suffixes longest first and falls back to a shorter one when the longer has no matching path', () => {
    assert.equal(idOf('a.eu.example.com', '/v1/x'), 'deep');
    assert.equal(idOf('a.eu.example.com', '/v2'), 'wild');
    assert.equal(idOf('example.com', '/'), null);
  });

  it('looks up path prefixes at segment boundaries only, in both case sensitivities, ordered by route id', () => {
    assert.equal(idOf('shop.example.com', '/admin/x'), 'insensitive');
    assert.equal(idOf('shop.example.com', '/ADMIN'), 'insensitive');
    assert.equal(idOf('shop.example.com', '/administrator'), 'wild');
    assert.equal(idOf('shop.example.com', '/status/'), 'status');
    assert.equal(idOf('shop.example.com', '/status/more'), 'wild');
  });
});
