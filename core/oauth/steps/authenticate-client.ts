/**
 * Client authentication, in one place: client_secret_basic / client_secret_post (RFC 6749 §2.3.1)
 * and private_key_jwt (RFC 7523) against the client directory (the API keys), and `none` for a
 * public client naming itself by `client_id` where the endpoint admits public clients. As steps:
 * `confidentialClient` and `confidentialOrPublicClient`.
 */
import type { RequestContext } from '../../plugin-runtime/context.js';
import { InvalidClientError, InvalidRequestError } from '../../errors.js';
import { isClientActive, type ClientDirectory, type IndexedClient } from '../../keys/clients.js';
import {
  CLIENT_ASSERTION_TYPE,
  type AssertionAudience,
  type ClientAssertionVerifier,
} from '../../keys/client-assertions.js';
import { step, type Exchange, type Step } from '../endpoint.js';

export interface AuthenticatedClient {
  key: IndexedClient;
  /** Whether HTTP Basic was used (errors then carry a Basic challenge). */
  basic: boolean;
}

/** RFC 6749 §2.3.1: Basic credentials are form-urlencoded before base64. */
function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

/** What an endpoint authenticates its clients against. */
export interface ClientAuthentication {
  readonly clients: ClientDirectory;
  /** Checks `private_key_jwt` assertions; null where the endpoint accepts secrets only. */
  readonly assertions: ClientAssertionVerifier | null;
}

/**
 * Authenticate the client by exactly one method: client_secret_basic, client_secret_post or
 * private_key_jwt (RFC 7523 §2.2, addressed to one of `audience().audiences`: computed only for an
 * assertion, as it builds URLs). Unknown, disabled, expired, wrong, or a method other than the one
 * the client is registered for: invalid_client. Only an assertion is checked asynchronously: a
 * secret's answer (or its error, thrown) comes without a promise.
 */
export function authenticateClient(
  req: Pick<RequestContext, 'headers'>,
  params: Map<string, string>,
  auth: ClientAuthentication,
  audience: () => AssertionAudience,
): AuthenticatedClient | Promise<AuthenticatedClient> {
  const header = req.headers.authorization;
  const basic = header !== undefined && /^basic /i.test(header);
  const assertion = params.get('client_assertion');
  const assertionType = params.get('client_assertion_type');
  const byAssertion = assertion !== undefined || assertionType !== undefined;
  if (Number(basic) + Number(params.has('client_secret')) + Number(byAssertion) > 1)
    throw new InvalidRequestError('Use one client authentication method, not several');
  if (byAssertion)
    return assertedClient(assertion, assertionType, params.get('client_id'), auth, audience()).then((key) => ({
      key,
      basic: false,
    }));
  return secretClient(header, basic, params, auth);
}

/** client_secret_basic (`header`, when `basic`) or client_secret_post. */
function secretClient(
  header: string | undefined,
  basic: boolean,
  params: Map<string, string>,
  auth: ClientAuthentication,
): AuthenticatedClient {
  let clientId: string | undefined;
  let secret: string | undefined;
  if (basic) {
    const decoded = Buffer.from(header!.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    try {
      if (colon > 0) {
        clientId = formDecode(decoded.slice(0, colon));
        secret = formDecode(decoded.slice(colon + 1));
      }
    } catch {
      /* malformed percent-encoding: treated as wrong credentials */
    }
    if (clientId === undefined || (params.has('client_id') && params.get('client_id') !== clientId))
      throw new InvalidClientError('Client authentication failed', true);
  } else {
    clientId = params.get('client_id');
    secret = params.get('client_secret');
    if (clientId === undefined || secret === undefined)
      throw new InvalidClientError(
        `Client authentication is required (${auth.assertions ? 'client_secret_basic, client_secret_post or private_key_jwt' : 'client_secret_basic or client_secret_post'})`,
      );
  }
  const client = auth.clients.authenticate(clientId, secret ?? '');
  if (!client) throw new InvalidClientError('Client authentication failed', basic);
  const registered = client.key.tokenEndpointAuthMethod;
  const used = basic ? 'client_secret_basic' : 'client_secret_post';
  if (registered !== undefined && registered !== used)
    throw new InvalidClientError(`This client is registered for ${registered}, not ${used}`, basic);
  return { key: client, basic };
}

async function assertedClient(
  assertion: string | undefined,
  type: string | undefined,
  clientId: string | undefined,
  auth: ClientAuthentication,
  audience: AssertionAudience,
): Promise<IndexedClient> {
  if (assertion === undefined || type === undefined)
    throw new InvalidRequestError('client_assertion and client_assertion_type go together');
  if (type !== CLIENT_ASSERTION_TYPE)
    throw new InvalidClientError(`client_assertion_type must be ${CLIENT_ASSERTION_TYPE}`);
  if (!auth.assertions) throw new InvalidClientError('This endpoint does not accept client assertions');
  return auth.assertions.verify(assertion, clientId, audience);
}

/** Parameters of client authentication (client_secret_post, private_key_jwt), known to every endpoint. */
export const CLIENT_AUTH_PARAMS = ['client_id', 'client_secret', 'client_assertion', 'client_assertion_type'] as const;

/** Where an assertion may be addressed for the endpoint of `exchange` (RFC 7523 §3). */
export type AudienceOf = (exchange: Exchange) => AssertionAudience;

/** Set the exchange's client from `authenticateClient`'s answer: a promise only for an assertion. */
function setClient(
  exchange: Exchange,
  found: AuthenticatedClient | Promise<AuthenticatedClient>,
): void | Promise<void> {
  if (!(found instanceof Promise)) {
    exchange.client = found.key;
    return;
  }
  return found.then((client) => {
    exchange.client = client.key;
  });
}

/** Step: a confidential client authenticates (introspection, the client credentials service). */
export function confidentialClient(auth: ClientAuthentication, audienceOf: AudienceOf): Step {
  return step('authenticate-client', (exchange) =>
    setClient(
      exchange,
      authenticateClient(exchange.ctx, exchange.params, auth, () => audienceOf(exchange)),
    ),
  );
}

/**
 * Step: confidential clients authenticate (Basic, post or assertion); a public client names itself
 * by `client_id` alone (it has no secret; PKCE protects it).
 */
export function confidentialOrPublicClient(auth: ClientAuthentication, audienceOf: AudienceOf): Step {
  return step('authenticate-client', async (exchange) => {
    const { ctx, params } = exchange;
    if (
      ctx.headers.authorization !== undefined ||
      params.has('client_secret') ||
      params.has('client_assertion') ||
      params.has('client_assertion_type')
    ) {
      return setClient(
        exchange,
        authenticateClient(ctx, params, auth, () => audienceOf(exchange)),
      );
    }
    const clientId = params.get('client_id');
    if (clientId === undefined)
      throw new InvalidClientError(
        'Client authentication is required (client_secret_basic or client_secret_post, or client_id for a public client)',
      );
    const client = auth.clients.get(clientId);
    if (!client || client.key.clientType !== 'public' || !isClientActive(client))
      throw new InvalidClientError('Client authentication failed');
    exchange.client = client;
  });
}

/** Step: the authenticated client is the request's consumer (logs, metrics). */
export const recordConsumer: Step = step('record-consumer', (exchange) => {
  exchange.ctx.consumer = exchange.client!.key.clientId;
});
