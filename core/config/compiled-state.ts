/**
 * The in-memory snapshot the hot path reads. It follows the store's change feed: a change to
 * routes, the global configuration or any kind that plugins compile from (key pairs, verifiers)
 * recompiles the route table, the pipelines and the sinks, then swaps them in at once; requests
 * hold the snapshot they started with. High-volume kinds (API keys) are indexed by their plugins.
 */
import { inject, injectable } from 'tsyringe';
import type { Logger } from 'pino';
import type { Pool } from 'undici';
import { LOGGER, STORE } from '../tokens.js';
import type { Store, ChangeEvent } from './store.js';
import { EntityRegistry, GLOBAL_CONFIG, GLOBAL_CONFIG_ID, ROUTES, type GlobalConfig, type Route } from './entities.js';
import type { Pipeline } from '../plugin-runtime/pipeline.js';
import { PluginCatalog } from '../plugin-runtime/plugin-catalog.js';
import { compilePipeline, compileSinks, effectiveInstances } from '../plugin-runtime/pipeline.js';
import { RouteTable, type CompiledRoute } from '../http/router.js';
import { UpstreamPools, type UpstreamTarget } from '../http/upstream.js';
import { WeightedRoundRobin } from '../http/balancer.js';
import { routeScope, type Sink } from '../plugin-runtime/plugin.js';
import { ProxyMetrics } from '../metrics/proxy-metrics.js';

export interface Snapshot {
  readonly routes: RouteTable;
  readonly sinks: readonly Sink[];
  readonly globalConfig: GlobalConfig;
}

@injectable()
export class State {
  #snapshot: Snapshot;
  readonly #store: Store;
  readonly #catalog: PluginCatalog;
  readonly #registry: EntityRegistry;
  readonly #log: Logger;
  readonly #metrics: ProxyMetrics;
  readonly pools: UpstreamPools;
  #unsubscribe: (() => void) | null = null;

  constructor(@inject(STORE) store: Store, catalog: PluginCatalog, registry: EntityRegistry, @inject(LOGGER) log: Logger, metrics: ProxyMetrics) {
    this.#store = store;
    this.#metrics = metrics;
    this.#catalog = catalog;
    this.#registry = registry;
    this.#log = log;
    this.pools = new UpstreamPools(log);
    this.#snapshot = { routes: new RouteTable([]), sinks: [], globalConfig: { plugins: [] } };
  }

  get snapshot(): Snapshot { return this.#snapshot; }

  /** Compile from the store and follow its changes. */
  start(): void {
    this.rebuild();
    this.#unsubscribe = this.#store.onChange((event) => this.#onChange(event));
  }

  stop(): void {
    this.#unsubscribe?.();
  }

  #onChange(event: ChangeEvent): void {
    if (event.op === 'reset' || this.#registry.get(event.kind)?.affectsPipelines) this.rebuild();
  }

  /**
   * Recompile everything and swap the snapshot in. One entity that does not compile (written by an
   * older version, or a plugin that fails) is isolated, never the whole snapshot: its route answers
   * 503, its sink is left out, an error names it, and every other change still reaches traffic.
   */
  rebuild(): void {
    const globalConfig = this.#store.get(GLOBAL_CONFIG, GLOBAL_CONFIG_ID) ?? { plugins: [] };
    const routes = this.#store.list(ROUTES).filter((r) => r.enabled !== false);
    const compiled = routes.map((route) => this.#compileRoute(route, globalConfig));
    const sinks = compileSinks(globalConfig.plugins ?? [], this.#catalog, (instance, error) => {
      this.#log.error({ err: error, plugin: instance.plugin }, 'a global sink plugin could not be compiled; it is not active until fixed');
    });
    this.#metrics.forSinks(sinks.map((sink) => sink.plugin));
    this.#metrics.retain(compiled);
    const used = new Set<Pool>();
    for (const route of compiled) for (const target of route.balancer.targets) used.add(target.pool);
    this.#snapshot = { routes: new RouteTable(compiled), sinks, globalConfig };
    this.pools.retain(used);
    this.#log.debug({ routes: compiled.length, sinks: sinks.length }, 'configuration compiled');
  }

  #compileRoute(route: Route, globalConfig: GlobalConfig): CompiledRoute {
    const { frontend, backend } = route;
    let pipeline: Pipeline | null = null;
    let targets: UpstreamTarget[] = [];
    const authorizerOnly = route.mode === 'authorizer';
    try {
      if (!authorizerOnly) {
        if (!backend) throw new Error('a route in proxy mode needs a backend');
        const connectMs = backend.timeouts?.connectMs ?? 5_000;
        targets = backend.targets.map((t) => this.pools.target(t.url, t.weight ?? 1, connectMs, t.tls ?? backend.tls));
      }
      pipeline = compilePipeline(effectiveInstances(globalConfig.plugins ?? [], route.plugins ?? []), this.#catalog, routeScope(route));
    } catch (error) {
      // A null pipeline makes the route answer 503 route_unavailable.
      pipeline = null;
      this.#log.error({ err: error, routeId: route.id }, 'route could not be compiled; it answers 503 until fixed');
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
      meters: this.#metrics.forRoute(route.id, pipeline?.plugins ?? []),
    };
  }
}
