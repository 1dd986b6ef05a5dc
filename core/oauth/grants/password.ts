/**
 * Legacy `grant_type=password`, off by default (RFC 9700 §2.4: must not be used), for migrations
 * from Kong, done the Kong way: the provider's backend vouches for the user with the route's
 * `provision_key` and `authenticated_userid` (the gateway never sees a password), and the
 * confidential client authenticates.
 */
import { randomUUID } from 'node:crypto';
import { InvalidGrantError, UnauthorizedClientError } from '../../errors.js';
import { clientOf, type Exchange } from '../endpoint.js';
import { mayUse, type StoredGrants } from '../stored-grants.js';
import { requireUserId } from '../user-id.js';
import type { Grant } from './grant.js';

async function passwordGrant(exchange: Exchange, authority: StoredGrants): Promise<void> {
  const client = clientOf(exchange);
  const { params } = exchange;
  if (client.key.clientType === 'public')
    throw new UnauthorizedClientError('A public client cannot use the password grant');
  if (!mayUse(client, 'password')) throw new UnauthorizedClientError('This client may not use the password grant');
  const provisionKey = params.get('provision_key');
  // The provision key and the user id stand for the resource owner's credentials (RFC 6749 §5.2).
  if (provisionKey === undefined || !authority.options.matchesProvisionKey(provisionKey))
    throw new InvalidGrantError('Invalid provision_key');
  const userId = requireUserId(params);
  const scope = authority.grantedScope(params.get('scope'), client);
  await authority.issue(exchange.ctx, { client, userId, scope, family: randomUUID() }, mayUse(client, 'refresh_token'));
}

export const password: Grant<StoredGrants> = {
  grantType: 'password',
  parameters: ['provision_key', 'authenticated_userid', 'scope'],
  handler: passwordGrant,
};
