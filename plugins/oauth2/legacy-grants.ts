/**
 * The legacy grants of Kong's `oauth2` plugin, both off by default. RFC 9700 (OAuth 2.0 Security
 * Best Current Practice) says the resource owner password credentials grant must not be used
 * (§2.4) and the implicit grant should not (§2.1.2: the token travels in a URL, with no sender
 * constraint); they are here for migrations from Kong, done the Kong way:
 *
 * - `grant_type=password` at the token endpoint: the provider's backend vouches for the user with
 *   the route's `provision_key` and `authenticated_userid` (the gateway never sees a password),
 *   and the confidential client authenticates;
 * - `response_type=token` at `/oauth2/authorize`: the access token is returned in the redirect
 *   URI's fragment (RFC 6749 §4.2.2), with no refresh token; errors go in the fragment too (§4.2.2.1).
 */
import { randomUUID } from 'node:crypto';
import type { IndexedClient, RequestContext } from '../../core/plugin-api.js';
import { InvalidGrantError, InvalidScopeError, UnauthorizedClientError } from '../../core/plugin-api.js';
import { requireUserId } from './user-id.js';

/** What the legacy grants borrow from the route's authorization server (plugin.ts). */
export interface LegacyGrantSteps {
  matchesProvisionKey(presented: string): boolean;
  /** The scope granted for `requested`; throws InvalidScopeError. */
  grantedScope(requested: string | undefined, client: IndexedClient): string;
  mayUse(client: IndexedClient, grantType: string): boolean;
  /** Save the tokens and answer the token request (RFC 6749 §5.1). */
  issue(ctx: RequestContext, client: IndexedClient, userId: string, scope: string, family: string, withRefresh: boolean): Promise<void>;
  /** Save an access token without a refresh token and return it with its lifetime in seconds. */
  saveAccessToken(client: IndexedClient, userId: string, scope: string): Promise<{ accessToken: string; expiresIn: number }>;
}

/** `grant_type=password` (enabled by the caller's config): a new grant for the user the provider vouches for. */
export async function passwordGrant(ctx: RequestContext, params: Map<string, string>, client: IndexedClient, steps: LegacyGrantSteps): Promise<void> {
  if (client.key.clientType === 'public') throw new UnauthorizedClientError('A public client cannot use the password grant');
  if (!steps.mayUse(client, 'password')) throw new UnauthorizedClientError('This client may not use the password grant');
  const provisionKey = params.get('provision_key');
  // The provision key and the user id stand for the resource owner's credentials (RFC 6749 §5.2).
  if (provisionKey === undefined || !steps.matchesProvisionKey(provisionKey)) throw new InvalidGrantError('Invalid provision_key');
  const userId = requireUserId(params);
  const scope = steps.grantedScope(params.get('scope'), client);
  await steps.issue(ctx, client, userId, scope, randomUUID(), steps.mayUse(client, 'refresh_token'));
}

class FragmentError extends Error {
  constructor(readonly code: string, message: string) { super(message); }
}

/**
 * The redirect answering `response_type=token` for a verified client and redirect URI: the token,
 * or the error, in the fragment, with `state`.
 */
export async function implicitRedirect(params: Map<string, string>, client: IndexedClient, redirectUri: string, userId: string, enabled: boolean, steps: LegacyGrantSteps): Promise<URL> {
  const fragment = new URLSearchParams();
  try {
    if (!enabled) throw new FragmentError('unsupported_response_type', 'The implicit grant (response_type=token) is not enabled on this route');
    if (!steps.mayUse(client, 'implicit')) throw new FragmentError('unauthorized_client', 'This client may not use the implicit grant');
    let scope: string;
    try {
      scope = steps.grantedScope(params.get('scope'), client);
    } catch (error) {
      if (error instanceof InvalidScopeError) throw new FragmentError('invalid_scope', error.message);
      throw error;
    }
    const { accessToken, expiresIn } = await steps.saveAccessToken(client, userId, scope);
    fragment.set('access_token', accessToken);
    fragment.set('token_type', 'Bearer');
    fragment.set('expires_in', String(expiresIn));
    if (scope) fragment.set('scope', scope);
  } catch (error) {
    if (!(error instanceof FragmentError)) throw error;
    fragment.set('error', error.code);
    fragment.set('error_description', error.message);
  }
  const state = params.get('state');
  if (state !== undefined) fragment.set('state', state);
  const location = new URL(redirectUri);
  location.hash = fragment.toString();
  return location;
}
