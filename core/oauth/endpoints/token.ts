/**
 * The token endpoint (RFC 6749 §3.2): POST, transport, parameters (those of every grant it
 * knows), client authentication, then the grant module named by `grant_type`, counted once it has
 * answered. Which grants are enabled, and the authority they issue from, are the plugin's.
 */
import { UnsupportedGrantTypeError } from '../../errors.js';
import { endpoint, step, type Endpoint, type Step } from '../endpoint.js';
import { requireParam } from '../oauth-request.js';
import { CLIENT_AUTH_PARAMS } from '../steps/authenticate-client.js';
import type { Grant } from '../grants/grant.js';
import { authenticatedPost, type ClientEndpointOptions } from './shared.js';

export interface TokenEndpointOptions<A> extends ClientEndpointOptions {
  /** The grants the endpoint knows (their parameters are read); `isEnabled` says which answer. */
  grants: ReadonlyArray<Grant<A>>;
  isEnabled(grantType: string): boolean;
  authority: A;
  /** The description of `unsupported_grant_type` for `grantType`. */
  unsupported(grantType: string): string;
  /** Count a token issued. */
  issued(grantType: string): void;
}

export function tokenEndpoint<A>(options: TokenEndpointOptions<A>): Endpoint {
  const known = new Set(['grant_type', ...options.grants.flatMap((grant) => grant.parameters), ...CLIENT_AUTH_PARAMS]);
  return endpoint([...authenticatedPost(options, known), grantStep(options)]);
}

/** Step: the grant module of `grant_type`, if enabled. */
function grantStep<A>(options: TokenEndpointOptions<A>): Step {
  const byType = new Map(options.grants.map((grant) => [grant.grantType, grant]));
  return step('grant', async (exchange) => {
    const grantType = requireParam(exchange.params, 'grant_type');
    const grant = byType.get(grantType);
    if (grant === undefined || !options.isEnabled(grantType))
      throw new UnsupportedGrantTypeError(options.unsupported(grantType));
    await grant.handler(exchange, options.authority);
    options.issued(grantType);
  });
}
