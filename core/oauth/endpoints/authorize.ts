/**
 * The authorization endpoint, after Kong's: called by the API provider's own web app with the
 * provision key once it has logged the user in and got consent. POST, transport, parameters, then
 * the provider's proof (provision key, user), the client and its redirect URI (errors here are
 * 400 JSON: they must not reach an unverified redirect URI), then the code (RFC 6749 §4.1.2,
 * errors in the redirect's query, §4.1.2.1) or, legacy, the implicit grant's token (fragment).
 */
import { InvalidRequestError } from '../../errors.js';
import { isClientActive, type ClientDirectory, type IndexedClient } from '../../keys/clients.js';
import { endpoint, step, type Endpoint, type Exchange } from '../endpoint.js';
import { NO_STORE, requireParam } from '../oauth-request.js';
import { issueSecond } from '../issuance.js';
import { implicitRedirect } from '../grants/implicit.js';
import { mayUse, type StoredGrants } from '../stored-grants.js';
import { methodStep } from '../steps/require-method.js';
import { paramsStep } from '../steps/read-params.js';
import { transportStep, type TransportRule } from '../steps/transport.js';
import { newToken } from '../token-formats/opaque.js';
import { requireUserId } from '../user-id.js';

/** An S256 challenge: the base64url SHA-256 (32 bytes, 43 characters, no padding). */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
const AUTHORIZE_PARAMS: ReadonlySet<string> = new Set([
  'client_id',
  'response_type',
  'scope',
  'provision_key',
  'authenticated_userid',
  'redirect_uri',
  'state',
  'code_challenge',
  'code_challenge_method',
]);

export interface AuthorizeEndpointOptions {
  transport: TransportRule;
  clients: ClientDirectory;
  authority: StoredGrants;
  enableAuthorizationCode: boolean;
  enableImplicitGrant: boolean;
}

/** An error for the client, sent back through its redirect URI (RFC 6749 §4.1.2.1). */
class RedirectedError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A verified authorization request: the user the provider vouches for, the client, where to send the answer. */
interface Verified {
  params: Map<string, string>;
  userId: string;
  client: IndexedClient;
  redirectUri: string;
}

export function authorizeEndpoint(options: AuthorizeEndpointOptions): Endpoint {
  return endpoint([
    methodStep(['POST']),
    transportStep(options.transport),
    paramsStep(AUTHORIZE_PARAMS),
    step('authorize', async (exchange) => {
      const verified = verifyRequest(exchange, options);
      const location =
        verified.params.get('response_type') === 'token'
          ? await implicitRedirect({ ...verified, enabled: options.enableImplicitGrant }, options.authority)
          : await codeRedirect(verified, options);
      exchange.ctx.respond(200, { redirect_uri: location.href }, NO_STORE);
    }),
  ]);
}

/** The provider's proof, the client and its redirect URI; 400 JSON when any is wrong. */
function verifyRequest({ params }: Exchange, options: AuthorizeEndpointOptions): Verified {
  const provisionKey = params.get('provision_key');
  if (provisionKey === undefined || !options.authority.options.matchesProvisionKey(provisionKey))
    throw new InvalidRequestError('Invalid provision_key');
  const userId = requireUserId(params);
  const client = options.clients.get(requireParam(params, 'client_id'));
  if (!client || !isClientActive(client)) throw new InvalidRequestError('Unknown or disabled client_id');
  const registered = client.key.redirectUris ?? [];
  const asked = params.get('redirect_uri');
  const redirectUri = asked ?? (registered.length === 1 ? registered[0]! : undefined);
  if (redirectUri === undefined)
    throw new InvalidRequestError('redirect_uri is required: the client has no single registered redirect URI');
  if (!registered.includes(redirectUri))
    throw new InvalidRequestError('redirect_uri is not registered for this client');
  return { params, userId, client, redirectUri };
}

/** `response_type=code`: the code, or the error, in the redirect's query, with `state`. */
async function codeRedirect(verified: Verified, options: AuthorizeEndpointOptions): Promise<URL> {
  const { params, redirectUri } = verified;
  let location: URL;
  try {
    const code = await saveCode(verified, options);
    location = new URL(redirectUri);
    location.searchParams.set('code', code);
  } catch (error) {
    if (!(error instanceof RedirectedError)) throw error;
    location = new URL(redirectUri);
    location.searchParams.set('error', error.code);
    location.searchParams.set('error_description', error.message);
  }
  const state = params.get('state');
  if (state !== undefined) location.searchParams.set('state', state);
  return location;
}

async function saveCode(
  { params, client, userId, redirectUri }: Verified,
  options: AuthorizeEndpointOptions,
): Promise<string> {
  const { authority } = options;
  const code = newToken();
  const challenge = checkChallenge(params, client, authority.options.pkce);
  if (params.get('response_type') !== 'code' || !options.enableAuthorizationCode)
    throw new RedirectedError('unsupported_response_type', 'Only response_type=code is supported');
  if (!mayUse(client, 'authorization_code'))
    throw new RedirectedError('unauthorized_client', 'This client may not use the authorization code grant');
  let grantScope: string;
  try {
    grantScope = authority.grantedScope(params.get('scope'), client);
  } catch (error) {
    throw new RedirectedError('invalid_scope', (error as Error).message);
  }
  const iat = await issueSecond(client, authority.sources);
  await authority.records.saveCode(code, {
    clientId: client.key.clientId,
    userId,
    redirectUri,
    scope: grantScope,
    challenge,
    routeKey: authority.options.routeKey,
    iat,
  });
  return code;
}

/** The S256 challenge, or null when none is sent and the PKCE policy allows it. */
function checkChallenge(
  params: Map<string, string>,
  client: IndexedClient,
  pkce: 'none' | 'lax' | 'strict',
): string | null {
  const challenge = params.get('code_challenge');
  const method = params.get('code_challenge_method');
  if (challenge === undefined) {
    if (method !== undefined)
      throw new RedirectedError('invalid_request', 'code_challenge_method without code_challenge');
    const required = pkce === 'strict' || (pkce === 'lax' && client.key.clientType === 'public');
    if (required)
      throw new RedirectedError(
        'invalid_request',
        'PKCE is required: send code_challenge with code_challenge_method=S256',
      );
    return null;
  }
  // RFC 7636 defaults the method to `plain`, which offers no protection against a stolen code: refused.
  if (method !== 'S256') throw new RedirectedError('invalid_request', 'code_challenge_method must be S256');
  if (!S256_CHALLENGE.test(challenge))
    throw new RedirectedError('invalid_request', 'code_challenge is not a base64url SHA-256');
  return challenge;
}
