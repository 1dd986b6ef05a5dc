/**
 * The parameters of an OAuth request: the bounded body parser (form, multipart or JSON), required
 * parameters, `token_type_hint`, and the no-store headers of every OAuth answer.
 */
import type { RequestContext } from '../plugin-runtime/context.js';
import { InvalidRequestError, PayloadTooLargeError } from '../errors.js';
import { mediaType, isJsonMediaType } from '../http/http-utils.js';
import { multipartBoundary, parseMultipartFields } from './multipart.js';

export const BODY_LIMIT = 64 * 1024;

/**
 * The request parameters an endpoint knows, from an `application/x-www-form-urlencoded`,
 * `multipart/form-data` (text fields) or JSON body. RFC 6749 §3.2: unknown parameters are ignored
 * (whatever their JSON type), a parameter without a value is treated as omitted, and a known one
 * may appear at most once.
 */
export async function readParams(ctx: RequestContext, known: ReadonlySet<string>): Promise<Map<string, string>> {
  const type = mediaType(ctx);
  const form = type === 'application/x-www-form-urlencoded';
  const multipart = type === 'multipart/form-data';
  if (!form && !multipart && !isJsonMediaType(type)) {
    ctx.discardBody();
    throw new InvalidRequestError(
      'The body must be application/x-www-form-urlencoded (or multipart/form-data, or JSON)',
    );
  }
  // Before reading: a multipart body without a usable boundary is refused unread.
  const boundary = multipart ? multipartBoundaryOf(ctx) : '';
  let body: Buffer;
  try {
    body = await ctx.readBody(BODY_LIMIT);
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
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new InvalidRequestError('The request body must be a JSON object');
  return knownParams(Object.entries(json), known);
}

function multipartBoundaryOf(ctx: RequestContext): string {
  try {
    return multipartBoundary(ctx.headers['content-type'] ?? '');
  } catch (error) {
    ctx.discardBody();
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

/** A required parameter. */
export function requireParam(params: Map<string, string>, name: string): string {
  const value = params.get(name);
  if (value === undefined || value === '') throw new InvalidRequestError(`The parameter "${name}" is required`);
  return value;
}

export const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;

/** A `token_type_hint` (RFC 7009 §2.1, RFC 7662 §2.1): absent, or one of the two token types. */
export function checkTokenTypeHint(hint: string | undefined): void {
  if (hint !== undefined && hint !== 'access_token' && hint !== 'refresh_token')
    throw new InvalidRequestError('token_type_hint must be access_token or refresh_token');
}
