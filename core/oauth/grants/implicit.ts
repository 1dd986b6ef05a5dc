/**
 * Legacy `response_type=token` at the authorization endpoint (the implicit grant), off by default
 * (RFC 9700 §2.1.2: should not be used; the token travels in a URL, with no sender constraint):
 * the access token is returned in the redirect URI's fragment (RFC 6749 §4.2.2), with no refresh
 * token; errors go in the fragment too (§4.2.2.1).
 */
import { InvalidScopeError } from '../../errors.js';
import type { IndexedClient } from '../../keys/clients.js';
import { mayUse, type StoredGrants } from '../stored-grants.js';

class FragmentError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The authorize request answered by the implicit grant, once its client and redirect URI are verified. */
export interface ImplicitRequest {
  params: Map<string, string>;
  client: IndexedClient;
  redirectUri: string;
  userId: string;
  enabled: boolean;
}

/** The redirect answering `response_type=token`: the token, or the error, in the fragment, with `state`. */
export async function implicitRedirect(request: ImplicitRequest, authority: StoredGrants): Promise<URL> {
  const fragment = new URLSearchParams();
  try {
    await implicitFragment(request, authority, fragment);
  } catch (error) {
    if (!(error instanceof FragmentError)) throw error;
    fragment.set('error', error.code);
    fragment.set('error_description', error.message);
  }
  const state = request.params.get('state');
  if (state !== undefined) fragment.set('state', state);
  const location = new URL(request.redirectUri);
  location.hash = fragment.toString();
  return location;
}

async function implicitFragment(
  request: ImplicitRequest,
  authority: StoredGrants,
  fragment: URLSearchParams,
): Promise<void> {
  const { client } = request;
  if (!request.enabled)
    throw new FragmentError(
      'unsupported_response_type',
      'The implicit grant (response_type=token) is not enabled on this route',
    );
  if (!mayUse(client, 'implicit'))
    throw new FragmentError('unauthorized_client', 'This client may not use the implicit grant');
  let scope: string;
  try {
    scope = authority.grantedScope(request.params.get('scope'), client);
  } catch (error) {
    if (error instanceof InvalidScopeError) throw new FragmentError('invalid_scope', error.message);
    throw error;
  }
  const { accessToken, expiresIn } = await authority.saveAccessToken(client, request.userId, scope);
  fragment.set('access_token', accessToken);
  fragment.set('token_type', 'Bearer');
  fragment.set('expires_in', String(expiresIn));
  if (scope) fragment.set('scope', scope);
}

/** The implicit grant as the metadata names it (it has no token-endpoint handler). */
export const IMPLICIT = { grantType: 'implicit', responseType: 'token' } as const;
