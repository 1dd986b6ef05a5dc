/**
 * Shared steps of the OAuth endpoints: method and transport checks, the bounded body parser
 * (form, multipart or JSON), and client authentication (client_secret_basic /
 * client_secret_post, RFC 6749 §2.3.1) against the client directory (the API keys).
 */
import type { IncomingMessage } from 'node:http';
import { InvalidClientError, InvalidRequestError, MethodNotAllowedError, PayloadTooLargeError } from '../errors.js';
import { mediaType, readBody, isJsonMediaType } from './http-utils.js';
import type { RequestContext } from './context.js';
import type { ClientDirectory, IndexedClient } from '../keys/clients.js';
import { multipartBoundary, parseMultipartFields } from './multipart.js';

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

/** Authenticate the client by exactly one method; unknown, disabled, expired or wrong: invalid_client. */
export function authenticateClient(req: IncomingMessage, params: Map<string, string>, clients: ClientDirectory): AuthenticatedClient {
  const header = req.headers.authorization;
  const basic = header !== undefined && /^basic /i.test(header);
  let clientId: string | undefined;
  let secret: string | undefined;
  if (basic) {
    if (params.has('client_secret')) throw new InvalidRequestError('Use one client authentication method, not several');
    const decoded = Buffer.from(header!.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    try {
      if (colon > 0) { clientId = formDecode(decoded.slice(0, colon)); secret = formDecode(decoded.slice(colon + 1)); }
    } catch { /* malformed percent-encoding: treated as wrong credentials */ }
    if (clientId === undefined || (params.has('client_id') && params.get('client_id') !== clientId)) throw new InvalidClientError('Client authentication failed', true);
  } else {
    clientId = params.get('client_id');
    secret = params.get('client_secret');
    if (clientId === undefined || secret === undefined) throw new InvalidClientError('Client authentication is required (client_secret_basic or client_secret_post)');
  }
  const client = clients.authenticate(clientId, secret ?? '');
  if (!client) throw new InvalidClientError('Client authentication failed', basic);
  return { key: client, basic };
}

/** Parameters of client authentication (client_secret_post), known to every endpoint. */
export const CLIENT_AUTH_PARAMS = ['client_id', 'client_secret'] as const;

/** A required parameter. */
export function requireParam(params: Map<string, string>, name: string): string {
  const value = params.get(name);
  if (value === undefined || value === '') throw new InvalidRequestError(`The parameter "${name}" is required`);
  return value;
}

export const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;
