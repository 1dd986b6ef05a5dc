// The server's shapes, as the back office reads them: imported as types from the modules that
// declare them (TypeBox schemas' Static types, the admin API's views), never copied. Type-only: the
// browser never loads these modules.
import type { Route, GlobalConfig, PluginInstance } from '../../core/config/entities.js';
import type { KeyPair } from '../../core/keys/entity.js';
import type { ErrorDetail } from '../../core/errors.js';
import type { ApiKey } from '../../plugins/apikeys/entity.js';
import type { JwtVerifier } from '../../plugins/jwt-verifier/entity.js';
import type { AccessRequest, AuditEvent, AuthorizationProfile, Quotas } from '../../plugins/access-requests/entity.js';
import type { Delivery } from '../../plugins/access-requests/webhooks.js';
import type { GrantView } from '../../plugins/oauth2/grant-store.js';
import type { ClientRequest, Reply } from '../server/ws-protocol.js';

export type {
  AccessRequest,
  ApiKey,
  AuditEvent,
  AuthorizationProfile,
  ClientRequest,
  Delivery,
  ErrorDetail,
  GlobalConfig,
  GrantView,
  JwtVerifier,
  KeyPair,
  PluginInstance,
  Quotas,
  Reply,
  Route,
};

/** A request state of an access request. */
export type RequestState = AccessRequest['state'];

/** What `list` and `get` answer, by entity name (the WebSocket protocol's ENTITIES and GRANTS). */
export interface Entities {
  routes: Route;
  'global-config': GlobalConfig;
  apikeys: ApiKey;
  keypairs: KeyPair;
  'jwt-verifiers': JwtVerifier;
  'authorization-profiles': AuthorizationProfile;
  'access-requests': AccessRequest;
  'oauth2-grants': GrantView;
}
