/**
 * The token authority (`core/oauth/`): endpoints as steps, grants as modules, formats as
 * strategies, which the token plugins compose; and bearer tokens on protected routes (where they
 * are read, access rules with scopes per method and path).
 */
export { NO_STORE } from '../oauth/oauth-request.js';
export {
  confidentialClient,
  confidentialOrPublicClient,
  recordConsumer,
  type ClientAuthentication,
} from '../oauth/steps/authenticate-client.js';
export { transportRule, type TransportRule } from '../oauth/steps/transport.js';
export type { Endpoint, Exchange } from '../oauth/endpoint.js';
export { routeIssuer, hostIssuer, assertionAudience, withoutTrailingSlash } from '../oauth/issuer.js';
export { routeScopePolicy, clientScopePolicy, grantedScope } from '../oauth/scopes.js';
export { liveIssueTime } from '../oauth/issuance.js';
export type {
  CodeRecord,
  TokenRecord,
  Redemption,
  RotationRecord,
  TokenPair,
  SealedPair,
  StoredToken,
  GrantRecords,
} from '../oauth/records.js';
export { StoredGrants, storedGrant } from '../oauth/stored-grants.js';
export { newToken, opaqueTokens } from '../oauth/token-formats/opaque.js';
export { JwtAccessTokens, looksLikeJwt } from '../oauth/token-formats/jwt.js';
export { GatewayJwtFormat } from '../oauth/token-formats/gateway-jwt.js';
export { clientCredentials } from '../oauth/grants/client-credentials.js';
export { authorizationCode } from '../oauth/grants/authorization-code.js';
export { refreshToken } from '../oauth/grants/refresh-token.js';
export { password } from '../oauth/grants/password.js';
export type { Grant, ClientCredentialsIssuer } from '../oauth/grants/grant.js';
export { tokenEndpoint } from '../oauth/endpoints/token.js';
export { introspectEndpoint, storedIntrospection, gatewayIntrospection } from '../oauth/endpoints/introspect.js';
export { revokeEndpoint, storedRevocation, gatewayRevocation } from '../oauth/endpoints/revoke.js';
export {
  metadataEndpoint,
  routeMetadata,
  serviceMetadata,
  METADATA_SUFFIX,
  JWKS_SUFFIX,
} from '../oauth/endpoints/metadata.js';
export { jwksEndpoint } from '../oauth/endpoints/jwks.js';
export { authorizeEndpoint } from '../oauth/endpoints/authorize.js';
// Bearer tokens on protected routes
export {
  TokenSourceSchema,
  DEFAULT_TOKEN_SOURCE,
  tokenExtractor,
  removeToken,
  type TokenSource,
} from '../oauth/token-source.js';
export {
  AccessRulesSchema,
  ScopeStrategySchema,
  ScopeClaimSchema,
  scopeMatcher,
  claimOf,
  compileRules,
  findRule,
  grantsRule,
  insufficientScope,
  ruleProblems,
  compileAccessPolicy,
  type AccessPolicy,
} from '../oauth/access-rules.js';
