/** `grant_type=client_credentials` (RFC 6749 §4.4): a client's own token, no user, no refresh token. */
import { clientOf, type Exchange } from '../endpoint.js';
import type { ClientCredentialsIssuer, Grant } from './grant.js';

async function clientCredentialsGrant(exchange: Exchange, authority: ClientCredentialsIssuer): Promise<void> {
  const client = clientOf(exchange);
  authority.permitClientCredentials(client);
  const scope = authority.grantedScope(exchange.params.get('scope'), client);
  await authority.issueClientToken(exchange, client, scope);
}

export const clientCredentials: Grant<ClientCredentialsIssuer> = {
  grantType: 'client_credentials',
  parameters: ['scope'],
  handler: clientCredentialsGrant,
};
