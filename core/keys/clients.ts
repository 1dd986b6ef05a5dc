/**
 * The OAuth clients behind credentials, as the token services see them. The `apikeys` plugin owns
 * API keys and provides this directory; plugins that issue or check tokens for those clients
 * (`client-credentials`, `jwt-verifier`) depend on this contract, never on another plugin's files.
 */

/** Metadata of a client naming the key pair that signs its access tokens. */
export const JWT_SIGN_KEYPAIR = 'jwt-sign-keypair';

/** How a client authenticates at the token endpoints (RFC 7591 §2 names; `none`: a public client). */
export const TOKEN_ENDPOINT_AUTH_METHODS = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
  'none',
] as const;
export type TokenEndpointAuthMethod = (typeof TOKEN_ENDPOINT_AUTH_METHODS)[number];

/** Public keys registered on a client: a JWK Set, or a PEM public key or X.509 certificate. */
export type RegisteredKeys = { readonly keys: ReadonlyArray<Readonly<Record<string, unknown>>> } | string;

/** What a token service may know of a client. */
export interface OAuthClient {
  readonly clientId: string;
  readonly clientName: string;
  readonly enabled?: boolean;
  readonly scopes?: readonly string[];
  readonly metadata?: Readonly<Record<string, string>>;
  /** Registered OAuth2 redirect URIs, matched exactly. */
  readonly redirectUris?: readonly string[];
  /** `public` clients have no secret and must use PKCE (default `confidential`). */
  readonly clientType?: 'confidential' | 'public';
  /** Grant types the client may use; absent: every grant the endpoint enables. */
  readonly grantTypes?: readonly string[];
  /**
   * How the client authenticates at the token endpoints; absent: its secret, by Basic or in the body
   * (or `none` for a public client). A client registered for one method is refused with any other.
   */
  readonly tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
  /** `private_key_jwt`: where the client publishes the public keys of its assertions. */
  readonly jwksUri?: string;
  /** `private_key_jwt`: the client's public keys, registered on it (instead of `jwksUri`). */
  readonly jwks?: RegisteredKeys;
  /** When the client was created (ISO 8601): tokens issued before belong to an earlier client of that id. */
  readonly createdAt?: string;
}

/** A client with what was pre-computed for the hot path. */
export interface IndexedClient {
  readonly key: OAuthClient;
  /** Epoch ms after which the client is refused (Infinity: never). */
  readonly validUntil: number;
}

export interface ClientDirectory {
  get(clientId: string): IndexedClient | undefined;
  /**
   * The client when `secret` is its secret and it is enabled and unexpired, else null. Takes as
   * long for an unknown client as for a known one.
   */
  authenticate(clientId: string, secret: string): IndexedClient | null;
  /** Hear of every change to a client (disabled, deleted, secret rotated); returns the unsubscribe function. */
  onClientChange(listener: (clientId: string) => void): () => void;
}

/** The entity kind holding the directory's clients (the `apikeys` plugin's), for references to a client. */
export const CLIENT_KIND = 'apikeys';

/**
 * The directory when no plugin provides clients (`apikeys` absent): nobody authenticates, and a
 * gateway token naming a client is refused, never taken on trust.
 */
export const NO_CLIENTS: ClientDirectory = {
  get: () => undefined,
  authenticate: () => null,
  onClientChange: () => () => {},
};

/** Whether a client may still obtain and use tokens. */
export function isClientActive(client: IndexedClient, now = Date.now()): boolean {
  return client.key.enabled !== false && now <= client.validUntil;
}
