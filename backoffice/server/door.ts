/**
 * The back office's door into the core: the one file of `backoffice/` that imports `core/`, the way
 * `core/plugin-api/` is the plugins' (`test/core/plugin-boundary.test.ts` enforces both). The
 * server side takes what it serves from here; browser code (`backoffice/src/`) imports only
 * `backoffice/` files and, for types, the core modules of `BROWSER_TYPE_MODULES`.
 */
export type { AdminApi } from '../../core/admin/admin-api.js';
export type { AdminUi } from '../../core/admin/extensions.js';
export type { AdminUiFactory, AdminUiParts } from '../../core/admin/admin-ui.js';
export {
  LOGIN_ATTEMPTS_NAMESPACE,
  LoginLimiter,
  checkLogin,
  type AdminAuthenticator,
} from '../../core/admin/admin-auth.js';
export type { StateNamespace, StateStore } from '../../core/state/state-store.js';
export type { Store } from '../../core/config/store.js';
export type { TrafficStats } from '../../core/http/traffic.js';
export {
  assertJsonDepth,
  hasDuplicateHost,
  readBody,
  readCookie,
  mediaType,
  sendError,
  sendErrorOnSocket,
  sendJson,
  toGatewayError,
} from '../../core/http/http-utils.js';
export {
  BadRequestError,
  ForbiddenError,
  GatewayError,
  InvalidCredentialsError,
  PayloadTooLargeError,
  ServiceBusyError,
  SessionExpiredError,
  TooManyRequestsError,
} from '../../core/errors.js';

/**
 * Core modules whose types (schemas, entities, admin answers) the browser code may import, paths
 * from the repository root: type-only, since nothing of the server runs in the page.
 */
export const BROWSER_TYPE_MODULES: readonly string[] = [
  'core/config/entities.ts',
  'core/config/schema.ts',
  'core/errors.ts',
  'core/admin/extensions.ts',
  'core/http/traffic.ts',
  'core/metrics/route-history.ts',
  'core/plugin-runtime/plugin-catalog.ts',
  'core/plugin-runtime/plugin.ts',
  'core/keys/entity.ts',
  'core/compiler/warnings.ts',
  'core/http/request-tester.ts',
  // The entities of the plugins whose screens the back office has (API keys, verifiers, access requests, grants)
  'plugins/apikeys/entity.ts',
  'plugins/jwt-verifier/entity.ts',
  'plugins/access-requests/entity.ts',
  'plugins/access-requests/webhooks.ts',
  'plugins/oauth2/grant-store.ts',
];
