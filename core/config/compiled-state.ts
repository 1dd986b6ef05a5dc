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
import { PluginCatalog } from '../plugin-runtime/plugin-catalog.js';
import { compilePipeline, compileSinks, effectiveInstances } from '../plugin-runtime/pipeline.js';
import { RouteTable, type CompiledRoute } from '../http/router.js';
import { UpstreamPools } from '../http/upstream.js';
import { WeightedRoundRobin } from '../http/balancer.js';
import type { Sink } from '../plugin-runtime/plugin.js';

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
  readonly pools: UpstreamPools;
  #unsubscribe: (() => void) | null = null;

  constructor(@inject(STORE) store: Store, catalog: PluginCatalog, registry: EntityRegistry, @inject(LOGGER) log: Logger) {
    this.#store = store;
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

  /** Recompile everything and swap the snapshot in. */
  rebuild(): void {
    const globalConfig = (this.#store.get(GLOBAL_CONFIG.name, GLOBAL_CONFIG_ID) as GlobalConfig | undefined) ?? { plugins: [] };
    const routes = (this.#store.list(ROUTES.name) as Route[]).filter((r) => r.enabled !== false);
    const compiled = routes.map((route) => this.#compileRoute(route, globalConfig));
    let sinks: Sink[] = [];
    try {
      sinks = compileSinks(globalConfig.plugins ?? [], this.#catalog);
    } catch (error) {
      this.#log.error({ err: error }, 'global sink plugins could not be compiled; no sink is active');
    }
    const used = new Set<Pool>();
    for (const route of compiled) for (const target of route.balancer.targets) used.add(target.pool);
    this.#snapshot = { routes: new RouteTable(compiled), sinks, globalConfig };
    this.pools.retain(used);
    this.#log.debug({ routes: compiled.length, sinks: sinks.length }, 'configuration compiled');
  }

  #compileRoute(route: Route, globalConfig: GlobalConfig): CompiledRoute {
    const { frontend, backend } = route;
    let pipeline = null;
    try {
      pipeline = compilePipeline(effectiveInstances(globalConfig.plugins ?? [], route.plugins ?? []), this.#catalog, { routeId: route.id, routeTags: route.tags ?? [], caseSensitive: route.frontend.caseSensitive !== false });
    } catch (error) {
      this.#log.error({ err: error, routeId: route.id }, 'route plugins could not be compiled; the route answers 503 until fixed');
    }
    const connectMs = backend.timeouts?.connectMs ?? 5_000;
    const targets = backend.targets.map((t) => this.pools.target(t.url, t.weight ?? 1, connectMs));
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
      rewriteHost: backend.rewriteHost ?? true,
      headersTimeout: backend.timeouts?.headersMs ?? 30_000,
      bodyTimeout: backend.timeouts?.bodyMs ?? 60_000,
    };
  }
}
