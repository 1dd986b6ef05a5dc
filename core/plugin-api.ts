/**
 * The plugin API: everything a plugin may use from the core, through this one module. Plugins
 * (`plugins/<name>/`) import nothing else from `core/` and nothing from another plugin's folder;
 * `test/core/plugin-boundary.test.ts` enforces it. Services shared between plugins (the client
 * directory that `apikeys` provides to the token services) are declared here as contracts.
 *
 * Plugins add typed request attributes by augmenting `ContextAttributes` of this module:
 *
 * @example
 * declare module '../../core/plugin-api.js' {
 *   interface ContextAttributes { apikey?: ApiKey }
 * }
 */

// The plugin contract and its runtime helpers
export { STEP_NAMES, type StepName, type Sink, type PluginSteps, type InstanceScope, type Plugin, type PluginModule } from './plugin-runtime/plugin.js';
export { regexProblem, anchoredRegex } from './plugin-runtime/plugin-catalog.js';

// The request
export { RequestContext, type ContextAttributes, type ResponseHead } from './http/context.js';
export { readBody, readCookie, mediaType, isJsonMediaType } from './http/http-utils.js';
export { parseBasicAuth, safeEqual } from './admin/admin-auth.js';
// Shared steps of OAuth endpoints: bounded body parsing (form, multipart, JSON) and client authentication
export { authenticateClient, readParams, requireMethod, requireParam, requireSecure, CLIENT_AUTH_PARAMS, NO_STORE, BODY_LIMIT, type AuthenticatedClient } from './http/oauth-request.js';
export { multipartBoundary, parseMultipartFields } from './http/multipart.js';

// Errors: every code is declared in errors.ts
export * from './errors.js';

// DI tokens
export { LOGGER, STORE, STATE_STORE, BOOT_CONFIG, PLUGINS, ADMIN_EXTENSIONS, METRICS } from './tokens.js';

// Metrics: token counts and counters with fixed label values (never ids, paths or hosts)
export { GRANT_TYPES, type Metrics, type FixedCounter, type CounterDefinition } from './metrics/metrics.js';
export type { BootConfig } from './config/boot-config.js';

// Entities: kinds, the write service, the store, admin endpoints
export { defineEntityKind, DateTime, EntityId, EntityMeta, EntityRegistry, ROUTES, GLOBAL_CONFIG, GLOBAL_CONFIG_ID, MAX_LIST_ITEMS, MAX_MAP_ENTRIES, MAX_PATTERN_LENGTH, type EntityKind, type EntityReference, type StoredEntity, type Route, type GlobalConfig, type PluginInstance } from './config/entities.js';
export { EntityService, type EntityHooks, type WriteContext, type ExportOptions } from './config/entity-service.js';
export type { Store, ChangeEvent } from './config/store.js';
export { entityRoutes, matchesEnabled, matchesTag, TAG_FILTER, ENABLED_FILTER } from './admin/admin-api.js';
export type { AdminExtension, AdminRoute, AdminRouteDoc, AdminRequest, AdminResult } from './admin/extensions.js';

// Runtime state: short-lived shared data (quotas, sessions, one-time codes) behind one contract
export type { StateStore, StateNamespace, StateValue, StateEntry, QuotaWindow, QuotaDecision, WindowUsage, ConsumeOptions, NamespaceOptions } from './state/state-store.js';
export { calendarWindows, rateLimitHeaders, type QuotaLimits } from './state/quota-windows.js';

// Keys, tokens and the clients behind them
export { KeyService, TokenVerificationError, tokenErrorMessage, RevocationList, MAX_GATEWAY_TOKEN_LIFETIME_SECONDS, KEYPAIRS, KEYPAIR_KIND, DEFAULT_KEYPAIR_ID, SIGNING_ALGORITHMS, type SigningKey, type VerificationKey, type KeyPair, type SigningAlgorithm } from './keys/index.js';
export { CLIENT_DIRECTORY, JWT_SIGN_KEYPAIR, isClientActive, type ClientDirectory, type IndexedClient, type OAuthClient } from './keys/clients.js';
export { verifyGatewayToken, gatewayTokenProblem, type GatewayTokenOptions, type GatewayTokenResult, type GatewayTokenPayload, type TokenStanding } from './keys/gateway-tokens.js';
