/**
 * Shared steps of the OAuth endpoints: method and transport checks, the bounded body parser
 * (form, multipart or JSON), and client authentication (client_secret_basic /
 * client_secret_post, RFC 6749 §2.3.1, and private_key_jwt, RFC 7523) against the client directory
 * (the API keys).
 */
import type { IncomingMessage } from 'node:http';
import { InvalidClientError, InvalidRequestError, MethodNotAllowedError, PayloadTooLargeError } from '../errors.js';
import { mediaType, readBody, isJsonMediaType } from './http-utils.js';
import type { RequestContext } from '../plugin-runtime/context.js';
import type { ClientDirectory, IndexedClient } from '../keys/clients.js';
import { multipartBoundary, parseMultipartFields } from './multipart.js';
import { CLIENT_ASSERTION_TYPE, type AssertionAudience, type ClientAssertionVerifier } from '../keys/client-assertions.js';

export const BODY_LIMIT = 64 * 1024;

export function requireMethod(ctx: RequestContext, allowed: readonly string[]): void {
  if (!allowed.includes(ctx.method)) {
    ctx.req.resume();
    throw new MethodNotAllowedError([...allowed]);
  }
}

export function requireSecure(ctx: RequestContext, secure: boolean): void {
  if (secure && ctx.scheme !== 'https') {
    ctx.req.resume();
    throw new InvalidRequestError('This endpoint is only served over HTTPS');
  }
}

/**
 * The request parameters an endpoint knows, from an `application/x-www-form-urlencoded`,
 * `multipart/form-data` (text fields) or JSON body. RFC 6749 §3.2: unknown parameters are ignored
 * (whatever their JSON type), a parameter without a value is treated as omitted, and a known one
 * may appear at most once.
 */
export async function readParams(req: IncomingMessage, known: ReadonlySet<string>): Promise<Map<string, string>> {
  const type = mediaType(req);
  const form = type === 'application/x-www-form-urlencoded';
  const multipart = type === 'multipart/form-data';
  if (!form && !multipart && !isJsonMediaType(type)) {
    req.resume();
    throw new InvalidRequestError('The body must be application/x-www-form-urlencoded (or multipart/form-data, or JSON)');
  }
  // Before reading: a multipart body without a usable boundary is refused unread.
  const boundary = multipart ? multipartBoundaryOf(req) : '';
  let body: Buffer;
  try {
    body = await readBody(req, BODY_LIMIT);
  } catch (error) {
    if (error instanceof PayloadTooLargeError) throw error;
    throw new InvalidRequestError('The request body could not be read');
  }
  if (form) return knownParams(new URLSearchParams(body.toString('utf8')), known);
  if (multipart) return knownParams(parseMultipartFields(body, boundary), known);
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new InvalidRequestError('The request body is not valid JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new InvalidRequestError('The request body must be a JSON object');
  return knownParams(Object.entries(json), known);
}

function multipartBoundaryOf(req: IncomingMessage): string {
  try {
    return multipartBoundary(req.headers['content-type'] ?? '');
  } catch (error) {
    req.resume();
    throw error;
  }
}

/** Keep the known parameters: strings, each at most once, empty ones dropped. */
function knownParams(entries: Iterable<[string, unknown]>, known: ReadonlySet<string>): Map<string, string> {
  const params = new Map<string, string>();
  const seen = new Set<string>();
  for (const [name, value] of entries) {
    if (!known.has(name)) continue;
    if (seen.has(name)) throw new InvalidRequestError(`The parameter "${name}" is repeated`);
    seen.add(name);
    if (typeof value !== 'string') throw new InvalidRequestError(`The parameter "${name}" must be a string`);
    if (value !== '') params.set(name, value);
  }
  return params;
}

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
 * private_key_jwt (RFC 7523 §2.2, addressed to one of `audience.audiences`). Unknown, disabled,
 * expired, wrong, or a method other than the one the client is registered for: invalid_client.
 */
export async function authenticateClient(req: IncomingMessage, params: Map<string, string>, auth: ClientAuthentication, audience: AssertionAudience): Promise<AuthenticatedClient> {
  const header = req.headers.authorization;
  const basic = header !== undefined && /^basic /i.test(header);
  const assertion = params.get('client_assertion');
  const assertionType = params.get('client_assertion_type');
  const byAssertion = assertion !== undefined || assertionType !== undefined;
  if ([basic, params.has('client_secret'), byAssertion].filter(Boolean).length > 1) throw new InvalidRequestError('Use one client authentication method, not several');
  if (byAssertion) return { key: await assertedClient(assertion, assertionType, params.get('client_id'), auth, audience), basic: false };
  let clientId: string | undefined;
  let secret: string | undefined;
  if (basic) {
    const decoded = Buffer.from(header!.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    try {
      if (colon > 0) { clientId = formDecode(decoded.slice(0, colon)); secret = formDecode(decoded.slice(colon + 1)); }
    } catch { /* malformed percent-encoding: treated as wrong credentials */ }
    if (clientId === undefined || (params.has('client_id') && params.get('client_id') !== clientId)) throw new InvalidClientError('Client authentication failed', true);
  } else {
    clientId = params.get('client_id');
    secret = params.get('client_secret');
    if (clientId === undefined || secret === undefined) throw new InvalidClientError(`Client authentication is required (${auth.assertions ? 'client_secret_basic, client_secret_post or private_key_jwt' : 'client_secret_basic or client_secret_post'})`);
  }
  const client = auth.clients.authenticate(clientId, secret ?? '');
  if (!client) throw new InvalidClientError('Client authentication failed', basic);
  const registered = client.key.tokenEndpointAuthMethod;
  const used = basic ? 'client_secret_basic' : 'client_secret_post';
  if (registered !== undefined && registered !== used) throw new InvalidClientError(`This client is registered for ${registered}, not ${used}`, basic);
  return { key: client, basic };
}

async function assertedClient(assertion: string | undefined, type: string | undefined, clientId: string | undefined, auth: ClientAuthentication, audience: AssertionAudience): Promise<IndexedClient> {
  if (assertion === undefined || type === undefined) throw new InvalidRequestError('client_assertion and client_assertion_type go together');
  if (type !== CLIENT_ASSERTION_TYPE) throw new InvalidClientError(`client_assertion_type must be ${CLIENT_ASSERTION_TYPE}`);
  if (!auth.assertions) throw new InvalidClientError('This endpoint does not accept client assertions');
  return auth.assertions.verify(assertion, clientId, audience);
}

/** Parameters of client authentication (client_secret_post, private_key_jwt), known to every endpoint. */
export const CLIENT_AUTH_PARAMS = ['client_id', 'client_secret', 'client_assertion', 'client_assertion_type'] as const;

/** A required parameter. */
export function requireParam(params: Map<string, string>, name: string): string {
  const value = params.get(name);
  if (value === undefined || value === '') throw new InvalidRequestError(`The parameter "${name}" is required`);
  return value;
}

export const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;
