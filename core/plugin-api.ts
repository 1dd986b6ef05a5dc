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
export {
  STEP_NAMES,
  type StepName,
  type Sink,
  type PluginSteps,
  type InstanceScope,
  type RouteDomain,
  type Plugin,
  type PluginModule,
} from './plugin-runtime/plugin.js';
export { indexKey, type IndexKey, type IndexSet, type IndexBuilder } from './plugin-runtime/indexes.js';
export { regexProblem, anchoredRegex } from './plugin-runtime/plugin-catalog.js';
// Wording of `describe(config)`, the one-liner the route designer shows per plugin box
export { listOf, duration, ADVANCED } from './plugin-runtime/plugin-summary.js';
export { HTTPS_ONLY } from './compiler/warnings.js';
// Write-only secrets in plugin configs (generated, stored as digests, never shown, rotatable)
export { writeOnlySecret, secretMatcher, secretDigest, rotatePluginSecret } from './plugin-runtime/plugin-secrets.js';

// The request
export { RequestContext, type ContextAttributes, type ResponseHead } from './plugin-runtime/context.js';
export { readBody, readCookie, mediaType, isJsonMediaType } from './http/http-utils.js';
export { parseBasicAuth, safeEqual } from './admin/admin-auth.js';
// Shared steps of OAuth endpoints: bounded body parsing (form, multipart, JSON) and client authentication
export { requireParam, NO_STORE, BODY_LIMIT } from './oauth/oauth-request.js';
export {
  confidentialClient,
  confidentialOrPublicClient,
  recordConsumer,
  CLIENT_AUTH_PARAMS,
  type ClientAuthentication,
} from './oauth/steps/authenticate-client.js';
export { transportRule, type TransportRule } from './oauth/steps/transport.js';
export { multipartBoundary, parseMultipartFields } from './oauth/multipart.js';
// The token authority (core/oauth/): endpoints as steps, grants as modules, formats as strategies.
export type { Endpoint, Exchange } from './oauth/endpoint.js';
export { routeIssuer, hostIssuer, assertionAudience, withoutTrailingSlash } from './oauth/issuer.js';
export { routeScopePolicy, clientScopePolicy, grantedScope } from './oauth/scopes.js';
export { liveIssueTime } from './oauth/issuance.js';
export type {
  CodeRecord,
  TokenRecord,
  Redemption,
  RotationRecord,
  TokenPair,
  SealedPair,
  StoredToken,
  GrantRecords,
} from './oauth/records.js';
export { StoredGrants, storedGrant } from './oauth/stored-grants.js';
export { newToken, opaqueTokens } from './oauth/token-formats/opaque.js';
export { JwtAccessTokens, looksLikeJwt } from './oauth/token-formats/jwt.js';
export { GatewayJwtFormat } from './oauth/token-formats/gateway-jwt.js';
export { clientCredentials } from './oauth/grants/client-credentials.js';
export { authorizationCode } from './oauth/grants/authorization-code.js';
export { refreshToken } from './oauth/grants/refresh-token.js';
export { password } from './oauth/grants/password.js';
export type { Grant, ClientCredentialsIssuer } from './oauth/grants/grant.js';
export { tokenEndpoint } from './oauth/endpoints/token.js';
export { introspectEndpoint, storedIntrospection, gatewayIntrospection } from './oauth/endpoints/introspect.js';
export { revokeEndpoint, storedRevocation, gatewayRevocation } from './oauth/endpoints/revoke.js';
export {
  metadataEndpoint,
  routeMetadata,
  serviceMetadata,
  METADATA_SUFFIX,
  JWKS_SUFFIX,
} from './oauth/endpoints/metadata.js';
export { jwksEndpoint } from './oauth/endpoints/jwks.js';
export { authorizeEndpoint } from './oauth/endpoints/authorize.js';
// Values from tokens and identity providers sent upstream as headers: one documented encoding
export { headerValue, claimHeaderValue } from './http/header-values.js';
// JSON from an authority trusted for a decision: a member named twice is refused
export { parseStrictJson } from './http/strict-json.js';
// Bearer tokens on protected routes: where they are read, and access rules with scopes per method and path
export {
  TokenSourceSchema,
  DEFAULT_TOKEN_SOURCE,
  tokenExtractor,
  removeToken,
  type TokenSource,
} from './oauth/token-source.js';
export {
  AccessRuleSchema,
  AccessRulesSchema,
  ScopeStrategySchema,
  ScopeClaimSchema,
  scopeMatcher,
  grantedScopes,
  claimOf,
  compileRules,
  findRule,
  grantsRule,
  insufficientScope,
  ruleProblems,
  compileAccessPolicy,
  type AccessRule,
  type ScopeStrategy,
  type ScopeMatcher,
  type CompiledRule,
  type AccessPolicy,
  type AccessRuleOptions,
} from './oauth/access-rules.js';

// Errors: every code is declared in errors.ts
export * from './errors.js';

// DI tokens
export { LOGGER, STORE, STATE_STORE, BOOT_CONFIG, PLUGINS, ADMIN_EXTENSIONS, METRICS } from './tokens.js';

// Metrics: token counts and counters with fixed label values (never ids, paths or hosts)
export { GRANT_TYPES, type Metrics, type FixedCounter, type CounterDefinition } from './metrics/metrics.js';
export type { BootConfig } from './config/boot-config.js';

// Entities: kinds, the write service, the store, admin endpoints
export {
  defineEntityKind,
  DateTime,
  EntityId,
  EntityMeta,
  EntityRegistry,
  ROUTES,
  GLOBAL_CONFIG,
  GLOBAL_CONFIG_ID,
  MAX_LIST_ITEMS,
  MAX_MAP_ENTRIES,
  MAX_PATTERN_LENGTH,
  type EntityKind,
  type EntityReference,
  type StoredEntity,
  type Route,
  type GlobalConfig,
  type PluginInstance,
} from './config/entities.js';
export { EntityService, type EntityHooks, type WriteContext, type ExportOptions } from './config/entity-service.js';
export type { Store, ChangeEvent } from './config/store.js';
export { entityRoutes, matchesEnabled, matchesTag, TAG_FILTER, ENABLED_FILTER } from './admin/admin-api.js';
export type {
  AdminExtension,
  AdminRoute,
  AdminRouteDoc,
  AdminRequest,
  AdminResult,
  AdminCaller,
} from './admin/extensions.js';
export { API_TOKEN_SCOPES, type ApiTokenScope } from './admin/api-tokens.js';

// Runtime state: short-lived shared data (quotas, sessions, one-time codes) behind one contract
export type {
  StateStore,
  StateNamespace,
  StateValue,
  StateEntry,
  StateWrite,
  QuotaWindow,
  QuotaDecision,
  WindowUsage,
  ConsumeOptions,
  NamespaceOptions,
} from './state/state-store.js';
export { calendarWindows, rateLimitHeaders, type QuotaLimits } from './state/quota-windows.js';

// Keys, tokens and the clients behind them
export {
  KeyService,
  TokenVerificationError,
  tokenErrorMessage,
  RevocationList,
  RevocationEpoch,
  MAX_GATEWAY_TOKEN_LIFETIME_SECONDS,
  MAX_GRANT_LIFETIME_SECONDS,
  KEYPAIRS,
  KEYPAIR_KIND,
  DEFAULT_KEYPAIR_ID,
  SIGNING_ALGORITHMS,
  type SigningKey,
  type VerificationKey,
  type KeyPair,
  type SigningAlgorithm,
} from './keys/index.js';
export {
  CLIENT_DIRECTORY,
  CLIENT_KIND,
  JWT_SIGN_KEYPAIR,
  TOKEN_ENDPOINT_AUTH_METHODS,
  isClientActive,
  type ClientDirectory,
  type IndexedClient,
  type OAuthClient,
  type TokenEndpointAuthMethod,
  type RegisteredKeys,
} from './keys/clients.js';
export {
  ClientAssertionVerifier,
  clientAuthProblems,
  importRegisteredKeys,
  ASSERTION_SIGNING_ALGORITHMS,
  CLIENT_ASSERTION_TYPE,
  ClientAssertionSettingsSchema,
  type ClientAssertionOptions,
  type AssertionAudience,
} from './keys/client-assertions.js';
export {
  RemoteKeySet,
  discoveredJwksUri,
  fetchJson,
  JWKS_FETCHES,
  type ResolvedKey,
  type RemoteOptions,
  type JwksFetchCounter,
} from './keys/remote-keys.js';
export { JWKS_URI_PUBLIC_ONLY, jwksUriProblem, jwksHostAllowed } from './keys/jwks-uri-guard.js';
// Whether a grant (code, refresh or access token) is alive: asked by every path that issues or accepts a gateway token
export {
  grantLiveness,
  type GrantFacts,
  type GrantSources,
  type GrantLiveness,
  type GrantDeath,
} from './keys/grant-liveness.js';
export {
  verifyGatewayToken,
  gatewayTokenProblem,
  type GatewayTokenOptions,
  type GatewayTokenResult,
  type GatewayTokenPayload,
  type TokenStanding,
} from './keys/gateway-tokens.js';
