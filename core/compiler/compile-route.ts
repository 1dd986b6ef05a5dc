/**
 * "Will this route compile?" answered in one place: the rebuild (`compileRoute`) and the write-time
 * check (`routeProblems`, `globalConfigProblems`) take the same steps, in the same order: the route's
 * backend and target URLs, then its plugin instances (the global ones it inherits first, chosen by
 * `inheritedInstances`, then its own), instantiated in the route's scope with the same indexes.
 */
import type { ErrorDetail } from '../errors.js';
import {
  GLOBAL_CONFIG,
  GLOBAL_CONFIG_ID,
  ROUTES,
  type GlobalConfig,
  type PluginInstance,
  type Route,
} from '../config/entities.js';
import type { Store } from '../config/store.js';
import { needsNormalization, normalizePath, splitDomain } from '../config/request-path.js';
import { compilePipeline, effectiveInstances, inheritedInstances, type Pipeline } from '../plugin-runtime/pipeline.js';
import type { PluginCatalog } from '../plugin-runtime/plugin-catalog.js';
import { routeScope, type InstanceScope } from '../plugin-runtime/plugin.js';
import type { IndexSet } from '../plugin-runtime/indexes.js';
import type { CompiledRoute } from './router.js';
import { targetProblem, type UpstreamPools, type UpstreamTarget } from './upstream.js';
import { WeightedRoundRobin } from './balancer.js';
import type { ProxyMetrics } from '../metrics/proxy-metrics.js';

/** What compiling a route needs besides the route: the plugins, the pools, the meters and this pass's indexes. */
export interface RouteCompilation {
  readonly catalog: PluginCatalog;
  readonly pools: UpstreamPools;
  readonly metrics: ProxyMetrics;
  readonly indexes: IndexSet;
  /** A route that does not compile answers 503 route_unavailable; this hears why. */
  readonly onError: (route: Route, error: unknown) => void;
}

/** The scope a route's instances run in, with the indexes of the pass compiling it. */
export function compileScope(route: Route, indexes: IndexSet): InstanceScope {
  return { ...routeScope(route), indexes };
}

const MISSING_BACKEND = 'A route needs a backend unless its mode is "authorizer"';

/** The route's backend as the compiler needs it: present unless the route only authorizes, usable target URLs. */
export function backendProblems(route: Route): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  if (route.mode !== 'authorizer' && !route.backend) problems.push({ path: '/backend', message: MISSING_BACKEND });
  route.backend?.targets.forEach((target, i) => {
    const problem = targetProblem(target.url);
    if (problem) problems.push({ path: `/backend/targets/${i}/url`, message: problem });
  });
  return problems;
}

/**
 * A domain's path prefix that no request can match: requests are refused when their path is not
 * one the gateway accepts (`request-path.ts`: `/v1.`, `/a%2Fb`, `/%20x`), so such a prefix would
 * be accepted and then never serve anything.
 */
function frontendProblems(route: Route): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  route.frontend.domains.forEach((domain, i) => {
    const { prefix } = splitDomain(domain);
    if (prefix !== '' && needsNormalization(prefix) && normalizePath(prefix) === null) {
      problems.push({
        path: `/frontend/domains/${i}`,
        message: `The path prefix "${prefix}" can never match: the gateway refuses request paths of that form (see the routes reference, Matching)`,
      });
    }
  });
  return problems;
}

/** Compile one route; a route that does not compile gets a null pipeline (503), never an exception. */
export function compileRoute(route: Route, globalConfig: GlobalConfig, c: RouteCompilation): CompiledRoute {
  const { frontend, backend } = route;
  let pipeline: Pipeline | null = null;
  let targets: UpstreamTarget[] = [];
  const authorizerOnly = route.mode === 'authorizer';
  try {
    if (!authorizerOnly) {
      if (!backend) throw new Error(MISSING_BACKEND);
      // An unusable target URL throws here, as `backendProblems` reports it at write time.
      const connectMs = backend.timeouts?.connectMs ?? 5_000;
      targets = backend.targets.map((t) => c.pools.target(t.url, t.weight ?? 1, connectMs, t.tls ?? backend.tls));
    }
    pipeline = compilePipeline(
      effectiveInstances(globalConfig.plugins ?? [], route.plugins ?? []),
      c.catalog,
      compileScope(route, c.indexes),
    );
  } catch (error) {
    pipeline = null;
    c.onError(route, error);
  }
  return {
    id: route.id,
    route,
    tags: route.tags ?? [],
    pipeline,
    balancer: new WeightedRoundRobin(targets),
    methods: frontend.methods && frontend.methods.length > 0 ? new Set(frontend.methods) : null,
    headers: Object.entries(frontend.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v] as [string, string]),
    query: Object.entries(frontend.query ?? {}),
    stripPath: frontend.stripPath ?? true,
    rewriteHost: backend?.rewriteHost ?? true,
    headersTimeout: backend?.timeouts?.headersMs ?? 30_000,
    bodyTimeout: backend?.timeouts?.bodyMs ?? 60_000,
    authorizerOnly,
    identity: {
      user: route.authorizer?.user ?? false,
      emailHeader: route.authorizer?.emailHeader?.toLowerCase() ?? null,
      accessToken: route.authorizer?.accessToken ?? false,
    },
    meters: c.metrics.forRoute(route.id, pipeline?.plugins ?? []),
  };
}

/** What a route write would not compile with: its backend, plugin configs, and its instances (own and inherited) run once. */
export function routeProblems(route: Route, catalog: PluginCatalog, store: Store, indexes: IndexSet): ErrorDetail[] {
  const problems = [...frontendProblems(route), ...backendProblems(route)];
  const plugins = route.plugins ?? [];
  problems.push(...catalog.check(plugins, '/plugins', false));
  if (problems.length > 0) return problems;
  const global = store.get(GLOBAL_CONFIG, GLOBAL_CONFIG_ID);
  const scope = compileScope(route, indexes);
  const own = catalog.dryRun(plugins, '/plugins', scope);
  if (own.length > 0) return own;
  // Sinks are compiled apart, before routing: a route does not run them.
  const inherited = inheritedInstances(global?.plugins ?? [], plugins).filter(
    (p) => !catalog.get(p.plugin)?.globalOnly,
  );
  return catalog
    .dryRun(inherited, '/plugins', scope)
    .map((p) => ({ path: '/plugins', message: `A global plugin cannot run on this route: ${p.message}` }));
}

/** What a global-configuration write would not compile with: its plugin configs, its instances, and every route that inherits them. */
export function globalConfigProblems(
  global: GlobalConfig,
  catalog: PluginCatalog,
  store: Store,
  indexes: IndexSet,
): ErrorDetail[] {
  const plugins = global.plugins ?? [];
  const problems = catalog.check(plugins, '/plugins', true);
  if (problems.length > 0) return problems;
  const own = catalog.dryRun(plugins, '/plugins', { routeId: null, routeTags: [], indexes });
  return own.length > 0 ? own : inheritingRouteProblems(plugins, catalog, store, indexes);
}

/** At most this many routes are named when a global plugin cannot run on them. */
const MAX_ROUTE_PROBLEMS = 5;

/**
 * The routes that would stop compiling with these global instances: each route runs the ones it
 * inherits in its own scope (an `oauth2` instance needs an issuer the route's domains can give).
 */
function inheritingRouteProblems(
  globals: readonly PluginInstance[],
  catalog: PluginCatalog,
  store: Store,
  indexes: IndexSet,
): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const inheritable = globals
    .map((instance, index) => ({ instance, index }))
    .filter(({ instance }) => instance.enabled !== false && !catalog.get(instance.plugin)?.globalOnly);
  if (inheritable.length === 0) return problems;
  for (const route of store.list(ROUTES)) {
    const routePlugins = route.plugins ?? [];
    const scope = compileScope(route, indexes);
    for (const { instance, index } of inheritable) {
      if (inheritedInstances([instance], routePlugins).length === 0) continue;
      for (const problem of catalog.dryRun([instance], '', scope)) {
        problems.push({
          path: `/plugins/${index}/config`,
          message: `Route "${route.id}" cannot run this global plugin: ${problem.message}`,
        });
      }
    }
    if (problems.length >= MAX_ROUTE_PROBLEMS) break;
  }
  return problems;
}
