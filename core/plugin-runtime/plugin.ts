/**
 * The plugin contract. A plugin is an object a module adds through its host (`host.plugins.add`);
 * it declares its config schema once and, per configured instance, returns the request
 * functions of the steps it takes part in. `instantiate` runs when configuration changes (keys are
 * imported, regexes compiled there), never per request.
 *
 * Steps, in request order: `sink` (may answer before routing; global instances only),
 * `preRoute`, `validateAccess` (deny by throwing a GatewayError), `transformRequest`,
 * `transformResponse` (synchronous: it edits the head before it is sent), `after` (logs, metrics).
 */
import type { Static, TSchema } from '@sinclair/typebox';
import type { RequestContext, ResponseHead } from './context.js';
import type { ErrorDetail } from '../errors.js';
import type { EntityReference, Route } from '../config/entities.js';
import { routeDomain, type RouteDomain } from '../config/request-path.js';
import type { IndexBuilder, IndexSet } from './indexes.js';

export const STEP_NAMES = [
  'sink',
  'preRoute',
  'validateAccess',
  'transformRequest',
  'transformResponse',
  'after',
] as const;
export type StepName = (typeof STEP_NAMES)[number];

type MaybePromise<T> = T | Promise<T>;

export interface Sink {
  /** Cheap and synchronous: whether this sink answers the request. */
  matches(ctx: RequestContext): boolean;
  /** Answer the request (`ctx.respond`). */
  handle(ctx: RequestContext): MaybePromise<void>;
}

export interface PluginSteps {
  sink?: Sink;
  preRoute?(ctx: RequestContext): MaybePromise<void>;
  validateAccess?(ctx: RequestContext): MaybePromise<void>;
  transformRequest?(ctx: RequestContext): MaybePromise<void>;
  transformResponse?(ctx: RequestContext, head: ResponseHead): void;
  after?(ctx: RequestContext): void;
}

/** Where an instance runs, for plugins that need it (e.g. the route id for authorization). */
export interface InstanceScope {
  /** Null for a global instance. */
  routeId: string | null;
  routeTags: readonly string[];
  /** The route's `frontend.caseSensitive` (absent: true): path patterns ignore case when false. */
  caseSensitive?: boolean;
  /**
   * The route's domains as the router binds them (host lower-cased, `*` and `*.suffix` kept; path
   * prefix normalized, without a trailing slash); absent for a global instance. What a plugin
   * derives from them (an issuer) comes from configuration, never from a request.
   */
  domains?: readonly RouteDomain[];
  /**
   * The derived indexes built in the same compile pass (a write-time dry run sees the current
   * snapshot's): a plugin resolves what its configuration names here, once, never per request.
   */
  indexes?: IndexSet;
}

export { routeDomain, type RouteDomain };

/** The scope of a route's instances (its own and the global ones it inherits), at write time and when compiled. */
export function routeScope(route: Pick<Route, 'id' | 'tags' | 'frontend'>): InstanceScope {
  return {
    routeId: route.id,
    routeTags: route.tags ?? [],
    caseSensitive: route.frontend.caseSensitive !== false,
    domains: route.frontend.domains.map(routeDomain),
  };
}

export interface Plugin<S extends TSchema = TSchema> {
  /** Stable id used in configuration: `headers`, `cors`, `apikeys`… */
  readonly id: string;
  readonly name: string;
  readonly description: string;
  /** Config schema: validation, TypeScript type and back-office form; defaults via `default`. */
  readonly configSchema: S;
  /** The steps this plugin provides (for the catalog and for placement checks). */
  readonly steps: readonly StepName[];
  /** Whether the plugin may only be attached globally (sinks). */
  readonly globalOnly?: boolean;
  /** Checks beyond the schema (regexes, consistency); run on every admin write. */
  checkConfig?(config: Static<S>): ErrorDetail[];
  /**
   * The entities a config refers to (a verifier, a key pair), paths relative to the config. The
   * EntityService checks that they exist on every write and refuses to delete them while referred to.
   */
  references?(config: Static<S>): EntityReference[];
  /** The derived indexes this plugin's instances read (see `indexes.ts`), built by the compile step. */
  readonly indexes?: readonly IndexBuilder[];
  /** Build the request functions for one configured instance. */
  instantiate(config: Static<S>, scope: InstanceScope): PluginSteps;
  /**
   * One line saying what an instance does with this configuration (defaults applied), for the back
   * office's route designer: e.g. "API key by Basic or bearer JWT; authorized for this route".
   * Without it, the designer shows the plugin's description.
   */
  describe?(config: Static<S>): string;
}

/** Describe a plugin for the catalog (`GET /api/plugins`). */
export function describePlugin(plugin: Plugin, defaultConfig: unknown) {
  return {
    id: plugin.id,
    name: plugin.name,
    description: plugin.description,
    steps: plugin.steps,
    globalOnly: plugin.globalOnly ?? false,
    configSchema: plugin.configSchema,
    defaultConfig,
  };
}
