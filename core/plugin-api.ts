/**
 * The plugin API: everything a plugin may use from the core, through this one door (version
 * `PLUGIN_API_VERSION`). Plugins (`plugins/<name>/`) import nothing else from `core/` and nothing
 * from another plugin's folder; `test/core/plugin-boundary.test.ts` enforces it, and
 * `test/core/plugin-api-surface.test.ts` pins the names exported here. A module receives a
 * `PluginHost` (its entity kinds, services, plugins, admin endpoints, logger, metrics, state, keys);
 * the named modules of `core/plugin-api/` group the rest:
 *
 * - `plugin.ts`: the plugin contract, the host, the version, index keys, summaries, secrets, metrics
 * - `services.ts`: the contracts of services one module provides to others (`ApiKeyIssuer`, `ClientDirectory`)
 * - `request.ts`: the request context and what steps read and send
 * - `entities.ts`: entity kinds, write hooks, admin endpoints
 * - `state.ts`: runtime state (quotas, one-time codes)
 * - `keys.ts`: key pairs, revocations, client keys, gateway tokens
 * - `oauth.ts`: the token authority's endpoints, grants and formats; access rules
 * - `errors.ts`: the errors plugins throw
 *
 * Plugins add typed request attributes by augmenting `ContextAttributes` of this module:
 *
 * @example
 * declare module '../../core/plugin-api.js' {
 *   interface ContextAttributes { apikey?: ApiKey }
 * }
 */
export * from './plugin-api/plugin.js';
export * from './plugin-api/services.js';
export * from './plugin-api/request.js';
export * from './plugin-api/entities.js';
export * from './plugin-api/state.js';
export * from './plugin-api/keys.js';
export * from './plugin-api/oauth.js';
export * from './plugin-api/errors.js';
