/**
 * A grant type as a module (oidc-provider's `lib/actions/grants/*.js`): the `grant_type` it
 * answers, the token-endpoint parameters it reads (besides `grant_type` and client
 * authentication), and its handler, run by the token endpoint once the client is authenticated.
 * The handler asks the authority it is given (`A`) for what differs between authorities: where
 * records live, the token format, the scope policy.
 */
import type { IndexedClient } from '../../keys/clients.js';
import type { Exchange } from '../endpoint.js';

export interface Grant<A> {
  readonly grantType: string;
  readonly parameters: readonly string[];
  handler(exchange: Exchange, authority: A): Promise<void>;
}

/** What the client credentials grant asks of an authority. */
export interface ClientCredentialsIssuer {
  /** Throws 400 unauthorized_client when `client` may not use the grant. */
  permitClientCredentials(client: IndexedClient): void;
  /** The scope granted for `requested`; throws InvalidScopeError. */
  grantedScope(requested: string | undefined, client: IndexedClient): string;
  /** Issue the client's token and answer (RFC 6749 §4.4.3). */
  issueClientToken(exchange: Exchange, client: IndexedClient, scope: string): Promise<void>;
}
