/**
 * The OAuth clients behind credentials, as the token services see them. The `apikeys` plugin owns
 * API keys and provides this directory; plugins that issue or check tokens for those clients
 * (`client-credentials`, `jwt-verifier`) depend on this contract, never on another plugin's files.
 */
import type { InjectionToken } from 'tsyringe';

/** Metadata of a client naming the key pair that signs its access tokens. */
export const JWT_SIGN_KEYPAIR = 'jwt-sign-keypair';

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

export const CLIENT_DIRECTORY: InjectionToken<ClientDirectory> = Symbol('ClientDirectory');

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
