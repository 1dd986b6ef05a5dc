/**
 * The compile step: the in-memory snapshot of compiled configuration the hot path reads. It is the
 * one reader of the store's change feed that derives anything: a change rebuilds, in one pass, the
 * derived indexes that concern its kind (declared by plugins and the core, see
 * `plugin-runtime/indexes.ts`) and, for a kind that affects pipelines (routes, the global
 * configuration, key pairs, verifiers), the route table, the pipelines and the sinks; the new
 * snapshot is then swapped in at once. Requests hold the snapshot they started with.
 */
import type { Logger } from 'pino';
import type { Pool } from 'undici';
import type { Store, ChangeEvent } from '../config/store.js';
import { EntityRegistry, GLOBAL_CONFIG, GLOBAL_CONFIG_ID, ROUTES, type GlobalConfig } from '../config/entities.js';
import type { PluginCatalog } from '../plugin-runtime/plugin-catalog.js';
import { compileSinks } from '../plugin-runtime/pipeline.js';
import type { Sink } from '../plugin-runtime/plugin.js';
import type { IndexBuilder, IndexSet } from '../plugin-runtime/indexes.js';
import { RouteTable } from './router.js';
import { UpstreamPools } from './upstream.js';
import type { ProxyMetrics } from '../metrics/proxy-metrics.js';
import { compileRoute, type RouteCompilation } from './compile-route.js';
import { BuiltIndexes, checkIndexNames } from './indexes.js';

export interface Snapshot {
  readonly routes: RouteTable;
  readonly sinks: readonly Sink[];
  readonly globalConfig: GlobalConfig;
  readonly indexes: IndexSet;
}

/** Everything the compile step reads; given at construction (the gateway's composition root). */
export interface CompilerDeps {
  readonly store: Store;
  readonly catalog: PluginCatalog;
  readonly registry: EntityRegistry;
  readonly log: Logger;
  readonly metrics: ProxyMetrics;
  /** Indexes the core declares (key pairs), built before the plugins' (`Plugin.indexes`). */
  readonly coreIndexes: readonly IndexBuilder[];
}

export class CompiledConfig {
  #snapshot: Snapshot;
  readonly #deps: CompilerDeps;
  readonly #builders: readonly IndexBuilder[];
  readonly pools: UpstreamPools;
  #unsubscribe: (() => void) | null = null;

  constructor(deps: CompilerDeps) {
    this.#deps = deps;
    this.#builders = [...deps.coreIndexes, ...deps.catalog.indexBuilders()];
    checkIndexNames(this.#builders);
    this.pools = new UpstreamPools(deps.log);
    this.#snapshot = {
      routes: new RouteTable([]),
      sinks: [],
      globalConfig: { plugins: [] },
      indexes: BuiltIndexes.EMPTY,
    };
  }

  get snapshot(): Snapshot {
    return this.#snapshot;
  }

  /** Compile from the store and follow its changes. */
  start(): void {
    this.#rebuild(null);
    this.#unsubscribe = this.#deps.store.onChange((event) => this.#onChange(event));
  }

  stop(): void {
    this.#unsubscribe?.();
  }

  #onChange(event: ChangeEvent): void {
    if (event.op === 'reset') return this.#rebuild(null);
    const pipelines = this.#deps.registry.get(event.kind)?.affectsPipelines === true;
    if (pipelines) return this.#rebuild(event);
    if (!BuiltIndexes.concern(this.#builders, event.kind)) return;
    // Only indexes changed (an API key): the routes stay compiled as they are.
    this.#snapshot = { ...this.#snapshot, indexes: this.#indexesAfter(event) };
  }

  #indexesAfter(change: ChangeEvent | null): BuiltIndexes {
    return BuiltIndexes.build(
      this.#builders,
      this.#deps.store,
      this.#snapshot.indexes as BuiltIndexes,
      change,
      (name, error) => {
        this.#deps.log.error(
          { err: error, index: name },
          'an index could not be rebuilt; it keeps its previous content until the next change',
        );
      },
    );
  }

  /**
   * Recompile everything and swap the snapshot in. One entity that does not compile (written by an
   * older version, or a plugin that fails) is isolated, never the whole snapshot: its route answers
   * 503, its sink is left out, an error names it, and every other change still reaches traffic.
   */
  #rebuild(change: ChangeEvent | null): void {
    const { store, catalog, log, metrics } = this.#deps;
    const indexes = this.#indexesAfter(change);
    const globalConfig = store.get(GLOBAL_CONFIG, GLOBAL_CONFIG_ID) ?? { plugins: [] };
    const routes = store.list(ROUTES).filter((r) => r.enabled !== false);
    const compilation: RouteCompilation = {
      catalog,
      pools: this.pools,
      metrics,
      indexes,
      onError: (route, error) => {
        log.error({ err: error, routeId: route.id }, 'route could not be compiled; it answers 503 until fixed');
      },
    };
    const compiled = routes.map((route) => compileRoute(route, globalConfig, compilation));
    const sinks = compileSinks(
      globalConfig.plugins ?? [],
      catalog,
      (instance, error) => {
        log.error(
          { err: error, plugin: instance.plugin },
          'a global sink plugin could not be compiled; it is not active until fixed',
        );
      },
      indexes,
    );
    metrics.forSinks(sinks.map((sink) => sink.plugin));
    metrics.retain(compiled);
    const used = new Set<Pool>();
    for (const route of compiled) for (const target of route.balancer.targets) used.add(target.pool);
    this.#snapshot = { routes: new RouteTable(compiled), sinks, globalConfig, indexes };
    this.pools.retain(used);
    log.debug({ routes: compiled.length, sinks: sinks.length }, 'configuration compiled');
  }
}
