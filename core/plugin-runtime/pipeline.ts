/**
 * Pipeline compilation and execution. When configuration changes, each route's plugin instances
 * (global ones first, route ones after, a route instance replacing the global instance of the same
 * plugin) become plain arrays of step functions. At request time the gateway walks arrays; a
 * synchronous step never pays for a promise.
 *
 * An instance's include/exclude filters match `ctx.routePath`, the path relative to the route as the
 * upstream receives it (the same path access rules see); sinks run before routing and match the full
 * normalized path.
 */
import type { RequestContext, ResponseHead } from './context.js';
import type { Sink, InstanceScope } from './plugin.js';
import type { PluginCatalog } from './plugin-catalog.js';
import { anchoredRegex } from './plugin-catalog.js';
import type { PluginInstance } from '../config/entities.js';
import type { IndexSet } from './indexes.js';

export type RequestStep = (ctx: RequestContext) => void | Promise<void>;
export type ResponseStep = (ctx: RequestContext, head: ResponseHead) => void;
export type AfterStep = (ctx: RequestContext) => void;

/** Request steps with, at the same index, the id of the plugin each belongs to (metrics name the plugin that denied). */
export type RequestSteps = readonly RequestStep[] & { readonly owners: readonly string[] };

/** A global sink with the id of its plugin. */
export interface CompiledSink extends Sink {
  readonly plugin: string;
}

export interface Pipeline {
  readonly preRoute: RequestSteps;
  readonly validateAccess: RequestSteps;
  readonly transformRequest: RequestSteps;
  readonly transformResponse: readonly ResponseStep[];
  readonly after: readonly AfterStep[];
  /** The plugin ids in this pipeline, in order (for diagnostics). */
  readonly plugins: readonly string[];
}

export const EMPTY_PIPELINE: Pipeline = Object.freeze({
  preRoute: steps(),
  validateAccess: steps(),
  transformRequest: steps(),
  transformResponse: [],
  after: [],
  plugins: [],
});

function steps(): RequestStep[] & { owners: string[] } {
  return Object.assign([] as RequestStep[], { owners: [] as string[] });
}

/** The global instances a route inherits: enabled ones of plugins the route does not configure itself. */
export function inheritedInstances(
  globals: readonly PluginInstance[],
  routeInstances: readonly PluginInstance[],
): PluginInstance[] {
  const overridden = new Set(routeInstances.map((i) => i.plugin));
  return globals.filter((i) => i.enabled !== false && !overridden.has(i.plugin));
}

/** The instances that apply on a route: enabled globals not overridden, then the route's own. */
export function effectiveInstances(
  globals: readonly PluginInstance[],
  routeInstances: readonly PluginInstance[],
): PluginInstance[] {
  return [...inheritedInstances(globals, routeInstances), ...routeInstances.filter((i) => i.enabled !== false)];
}

/** Compile instances into a pipeline; a plugin that fails to instantiate throws (the route is then unavailable). */
export function compilePipeline(
  instances: readonly PluginInstance[],
  catalog: PluginCatalog,
  scope: InstanceScope,
): Pipeline {
  const pipeline = {
    preRoute: steps(),
    validateAccess: steps(),
    transformRequest: steps(),
    transformResponse: [] as ResponseStep[],
    after: [] as AfterStep[],
    plugins: [] as string[],
  };
  for (const instance of instances) {
    const plugin = catalog.get(instance.plugin);
    if (!plugin || plugin.globalOnly) continue; // sinks are compiled apart, before routing
    const steps = plugin.instantiate(catalog.resolveConfig(instance), scope);
    const applies = pathFilter(instance, scope.caseSensitive !== false);
    pipeline.plugins.push(plugin.id);
    for (const name of ['preRoute', 'validateAccess', 'transformRequest'] as const) {
      const step = steps[name]?.bind(steps);
      if (!step) continue;
      pipeline[name].push(applies ? (ctx) => (applies(ctx.routePath) ? step(ctx) : undefined) : step);
      pipeline[name].owners.push(plugin.id);
    }
    const transformResponse = steps.transformResponse?.bind(steps);
    if (transformResponse)
      pipeline.transformResponse.push(
        applies
          ? (ctx, head) => {
              if (applies(ctx.routePath)) transformResponse(ctx, head);
            }
          : transformResponse,
      );
    const after = steps.after?.bind(steps);
    if (after)
      pipeline.after.push(
        applies
          ? (ctx) => {
              if (applies(ctx.routePath)) after(ctx);
            }
          : after,
      );
  }
  return pipeline;
}

/**
 * The sinks of the global configuration, in order, with their include/exclude filters applied. A
 * sink that cannot be instantiated is left out (reported to `onError`); the others still answer.
 */
export function compileSinks(
  globals: readonly PluginInstance[],
  catalog: PluginCatalog,
  onError: (instance: PluginInstance, error: unknown) => void,
  indexes?: IndexSet,
): CompiledSink[] {
  const sinks: CompiledSink[] = [];
  for (const instance of globals) {
    if (instance.enabled === false) continue;
    const plugin = catalog.get(instance.plugin);
    if (!plugin || !plugin.steps.includes('sink')) continue;
    let sink: Sink | undefined;
    let applies: ((path: string) => boolean) | null;
    try {
      sink = plugin.instantiate(catalog.resolveConfig(instance), { routeId: null, routeTags: [], indexes }).sink;
      applies = pathFilter(instance, true);
    } catch (error) {
      onError(instance, error);
      continue;
    }
    if (!sink) continue;
    const id = plugin.id;
    // The sink that matched decides the request (answers it, or refuses by throwing).
    sinks.push({
      plugin: id,
      matches: applies ? (ctx) => applies(ctx.path) && sink.matches(ctx) : (ctx) => sink.matches(ctx),
      handle: (ctx) => {
        ctx.decidedBy = id;
        return sink.handle(ctx);
      },
    });
  }
  return sinks;
}

function pathFilter(instance: PluginInstance, caseSensitive: boolean): ((path: string) => boolean) | null {
  const include = (instance.include ?? []).map((pattern) => anchoredRegex(pattern, caseSensitive));
  const exclude = (instance.exclude ?? []).map((pattern) => anchoredRegex(pattern, caseSensitive));
  if (include.length === 0 && exclude.length === 0) return null;
  return (path) => (include.length === 0 || include.some((r) => r.test(path))) && !exclude.some((r) => r.test(path));
}

/**
 * Run request steps in order until one answers the request; stays synchronous until a step returns a
 * promise. The plugin of the step that throws or answers is noted in `ctx.decidedBy` (metrics).
 */
export function runSteps(steps: RequestSteps, ctx: RequestContext): void | Promise<void> {
  let i = 0;
  try {
    for (; i < steps.length && !ctx.handled; i++) {
      const result = steps[i]!(ctx);
      if (result !== undefined && typeof (result as Promise<void>).then === 'function')
        return continueAsync(result as Promise<void>, steps, i, ctx);
    }
  } catch (error) {
    ctx.decidedBy = steps.owners[i] ?? null;
    throw error;
  }
  if (ctx.handled && i > 0) ctx.decidedBy ??= steps.owners[i - 1] ?? null;
}

async function continueAsync(
  pending: Promise<void>,
  steps: RequestSteps,
  at: number,
  ctx: RequestContext,
): Promise<void> {
  let i = at;
  try {
    await pending;
    for (i = at + 1; i < steps.length && !ctx.handled; i++) await steps[i]!(ctx);
  } catch (error) {
    ctx.decidedBy = steps.owners[i] ?? null;
    throw error;
  }
  if (ctx.handled) ctx.decidedBy ??= steps.owners[Math.min(i, steps.length) - 1] ?? null;
}

const STAGES = ['preRoute', 'validateAccess', 'transformRequest'] as const;

/**
 * preRoute, validateAccess, transformRequest, until a step answers the request itself. Returns
 * undefined when every step was synchronous (no promise at all on that path), else a promise.
 */
export function runRequestSteps(ctx: RequestContext, pipeline: Pipeline): void | Promise<void> {
  for (let stage = 0; stage < STAGES.length; stage++) {
    const steps = pipeline[STAGES[stage]!];
    if (steps.length === 0 || ctx.handled) continue;
    const pending = runSteps(steps, ctx);
    if (pending) return continueStages(pending, ctx, pipeline, stage + 1);
  }
}

async function continueStages(
  pending: Promise<void>,
  ctx: RequestContext,
  pipeline: Pipeline,
  from: number,
): Promise<void> {
  await pending;
  for (let stage = from; stage < STAGES.length; stage++) {
    const steps = pipeline[STAGES[stage]!];
    if (steps.length === 0 || ctx.handled) continue;
    const next = runSteps(steps, ctx);
    if (next) await next;
  }
}
