/**
 * Services one plugin module provides and others use, declared here rather than in the providing
 * plugin: the user then imports only the door (never another plugin's files), a second provider
 * can implement the same contract, and the core's token services can name a contract no plugin
 * owns. A provider calls `host.provide(TOKEN, impl)` in `register`; a user `host.use(TOKEN)` in a
 * factory or in `init`.
 */
import { CLIENT_KIND, NO_CLIENTS, type ClientDirectory } from '../keys/clients.js';
import type { TokenEndpointAuthMethod } from '../keys/clients.js';
import { serviceToken, type ServiceToken } from './host.js';

/**
 * The clients that authenticate at the token services and stand behind gateway tokens (provided by
 * `apikeys`). Without a provider, nobody authenticates and a token naming a client is refused.
 */
export const CLIENT_DIRECTORY: ServiceToken<ClientDirectory> = serviceToken('ClientDirectory', NO_CLIENTS);

/** The entity kind holding the directory's clients, for references to a client (`{ kind: CLIENT_KIND, id }`). */
export { CLIENT_KIND };

/** An API key another module creates for its own purpose (an access request's key). */
export interface NewApiKey {
  /** Absent with `tokenEndpointAuthMethod: 'private_key_jwt'`: a client signing assertions has no secret. */
  clientSecret?: string;
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
  clientName: string;
  description: string;
  enabled: boolean;
  /** Route ids and tags the key is authorized for. */
  authorizedEntities: string[];
  scopes: string[];
  tags: string[];
  metadata: Record<string, string>;
  grantTypes: Array<'client_credentials' | 'authorization_code' | 'refresh_token'>;
  redirectUris?: string[];
  jwksUri?: string;
  /** Registered public keys: a JWK Set, or PEM. */
  jwks?: unknown;
}

/** What an approval gives a key: it is enabled with these (a null quota: unlimited). */
export interface ApiKeyAccess {
  authorizedEntities: string[];
  scopes: string[];
  throttlingQuota: number | null;
  dailyQuota: number | null;
  monthlyQuota: number | null;
}

/**
 * API keys created and changed on another module's behalf (provided by `apikeys`), through the same
 * write path as the admin API: validation, secret hashing, references.
 */
export interface ApiKeyIssuer {
  /** Create the key; its client id. */
  issue(key: NewApiKey): Promise<string>;
  /** Enable the key with this access. */
  grant(clientId: string, access: ApiKeyAccess): Promise<void>;
  /** Disable the key (no write when it is disabled already). */
  disable(clientId: string): Promise<void>;
  delete(clientId: string): Promise<void>;
}

export const API_KEY_ISSUER: ServiceToken<ApiKeyIssuer> = serviceToken('ApiKeyIssuer');
