/**
 * A data file with many routes for the route-table benchmark, written directly (as a restore would):
 * a third each of exact hosts (`r<i>.routes.bench`), wildcard hosts (`*.w<i>.routes.bench`) and
 * path prefixes on one host (`paths.routes.bench/p<i>`). The measured requests hit the binding the
 * router tries last of its kind, so the numbers are the table's worst case, not its best.
 */
import type { Target } from './harness.js';

export const ROUTES_HOST = 'paths.routes.bench';

function route(id: string, domain: string, upstreamUrl: string) {
  return {
    id,
    name: id,
    description: '',
    enabled: true,
    tags: [],
    version: 1,
    frontend: { domains: [domain], methods: [], exact: false, stripPath: true, headers: {}, query: {} },
    backend: {
      targets: [{ url: upstreamUrl, weight: 1 }],
      rewriteHost: true,
      timeouts: { connectMs: 5000, headersMs: 30000, bodyMs: 60000 },
    },
    plugins: [],
  };
}

export function manyRoutesDataFile(count: number, upstreamUrl: string): string {
  const routes: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    const id = `bench-route-${i}`;
    const domain = i % 3 === 0 ? `r${i}.routes.bench` : i % 3 === 1 ? `*.w${i}.routes.bench` : `${ROUTES_HOST}/p${i}`;
    routes[id] = route(id, domain, upstreamUrl);
  }
  return JSON.stringify({ schemaVersion: 1, settings: {}, entities: { routes } });
}

/**
 * The requests measured on a gateway loaded with `manyRoutesDataFile(count)`: the wildcard with the
 * shortest suffix (wildcards are tried longest suffix first) and the shortest path prefix on the
 * shared host (prefixes are tried longest first).
 */
export function manyRoutesTargets(count: number, proxyUrl: string, pid: number): Target[] {
  const label = count >= 1000 ? `${count / 1000}k` : String(count);
  return [
    {
      name: `gateway: ${label} routes, wildcard host (tried last)`,
      url: `${proxyUrl}/`,
      headers: { host: 'x.w1.routes.bench' },
      pid,
    },
    {
      name: `gateway: ${label} routes, path prefix (tried last)`,
      url: `${proxyUrl}/p2/`,
      headers: { host: ROUTES_HOST },
      pid,
    },
  ];
}
