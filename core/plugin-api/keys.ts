/**
 * The gateway's keys and the clients behind them (`host.keys`): signing key pairs, revocations,
 * registered client keys and assertions, remote key sets, gateway tokens and whether a grant is alive.
 */
export {
  KeyService,
  tokenErrorMessage,
  RevocationList,
  RevocationEpoch,
  MAX_GATEWAY_TOKEN_LIFETIME_SECONDS,
  MAX_GRANT_LIFETIME_SECONDS,
  KEYPAIRS,
  DEFAULT_KEYPAIR_ID,
} from '../keys/index.js';
export {
  JWT_SIGN_KEYPAIR,
  isClientActive,
  type ClientDirectory,
  type IndexedClient,
  type OAuthClient,
} from '../keys/clients.js';
export {
  ClientAssertionVerifier,
  clientAuthProblems,
  ClientAssertionSettingsSchema,
} from '../keys/client-assertions.js';
export {
  RemoteKeySet,
  discoveredJwksUri,
  JWKS_FETCHES,
  type ResolvedKey,
  type JwksFetchCounter,
} from '../keys/remote-keys.js';
export { JWKS_URI_PUBLIC_ONLY, jwksUriProblem, jwksHostAllowed } from '../keys/jwks-uri-guard.js';
// Whether a grant (code, refresh or access token) is alive: asked by every path that issues or accepts a gateway token
export { grantLiveness, type GrantSources } from '../keys/grant-liveness.js';
export { verifyGatewayToken, gatewayTokenProblem } from '../keys/gateway-tokens.js';
