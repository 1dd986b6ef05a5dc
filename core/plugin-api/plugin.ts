/**
 * The plugin contract (a plugin's steps, config schema and indexes), the host a module is given,
 * the API's version, and the helpers a plugin's configuration-time code uses: index keys, the
 * one-line summary wording, write-only secrets, metrics.
 */
export type { Plugin, PluginSteps, InstanceScope, Sink, StepName } from '../plugin-runtime/plugin.js';
export {
  PLUGIN_API_VERSION,
  serviceToken,
  type PluginModule,
  type PluginHost,
  type HostEntities,
  type HostKeys,
  type EntityHandle,
  type EntityReader,
  type EntityRouteOptions,
  type ServiceToken,
} from './host.js';
// Derived indexes built by the compile step (see `Plugin.indexes`)
export { indexKey, type IndexBuilder, type IndexSet, type EntitySource } from '../plugin-runtime/indexes.js';
export { regexProblem } from '../plugin-runtime/plugin-catalog.js';
// Wording of `describe(config)`, the one-liner the route designer shows per plugin box
export { listOf, duration, ADVANCED } from '../plugin-runtime/plugin-summary.js';
// A boolean config field that makes the plugin's endpoints answer over HTTPS only (warned about without an HTTPS listener)
export { HTTPS_ONLY } from '../compiler/warnings.js';
// Write-only secrets in plugin configs (generated, stored as digests, never shown, rotatable)
export { writeOnlySecret, secretMatcher } from '../plugin-runtime/plugin-secrets.js';
// Token counts and counters with fixed label values (never ids, paths or hosts)
export type { Metrics, FixedCounter, CounterDefinition } from '../metrics/metrics.js';
export type { BootConfig } from '../config/boot-config.js';
