/**
 * Small HTTP helpers shared by the proxy, the admin API and plugin endpoints: the one place that
 * turns errors into responses, and bounded body readers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import {
  BadRequestError,
  GatewayError,
  InternalServerError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
} from '../errors.js';
import { rejectForbiddenKeys } from '../config/schema.js';
import type { RequestHeaders } from '../plugin-runtime/context.js';

const JSON_TYPE = 'application/json; charset=utf-8';

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers?: Record<string, string> | null,
): void {
  const payload = JSON.stringify(body);
  const head: Record<string, string | number> = {
    'content-type': JSON_TYPE,
    'content-length': Buffer.byteLength(payload),
  };
  if (headers) Object.assign(head, headers);
  res.writeHead(status, head);
  res.end(payload);
}

/** Map anything thrown to the error the client sees; unexposed errors become a plain 500. */
export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  return new InternalServerError();
}

/** Whether an error is the gateway's own fault (logged at error level) rather than the client's. */
export function isServerFault(error: unknown): boolean {
  return !(error instanceof GatewayError) || error.status >= 500;
}

/** Send `error` as `{error, error_description}` JSON with its headers; no-op once headers are sent. */
export function sendError(res: ServerResponse, error: unknown, extraHeaders?: Record<string, string> | null): void {
  const gatewayError = toGatewayError(error);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: Record<string, string> = { 'cache-control': 'no-store', ...extraHeaders, ...gatewayError.headers };
  sendJson(res, gatewayError.status, gatewayError.toJSON(), headers);
}

/** Answer an upgrade request on its raw socket (no ServerResponse exists for upgrades). */
export function sendErrorOnSocket(socket: Duplex, error: unknown, extraHeaders?: Record<string, string> | null): void {
  const gatewayError = toGatewayError(error);
  const payload = JSON.stringify(gatewayError.toJSON());
  const headers: Record<string, string> = {
    ...extraHeaders,
    ...gatewayError.headers,
    'content-type': JSON_TYPE,
    'content-length': String(Buffer.byteLength(payload)),
    connection: 'close',
  };
  const lines = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n');
  if (!socket.writable) return void socket.destroy();
  socket.end(
    `HTTP/1.1 ${gatewayError.status} ${STATUS_CODES[gatewayError.status] ?? ''}\r\n${lines}\r\n\r\n${payload}`,
  );
}

/** The value of cookie `name` in a Cookie header (percent-decoded when well-formed), or null. */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
    const raw = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(raw) || null;
    } catch {
      return raw || null;
    }
  }
  return null;
}

/**
 * Whether the request carries more than one Host header (RFC 9112 §3.2: answer 400). Node keeps the
 * first and drops the rest, so a proxy behind or in front of us that keeps the last would route on
 * another host than the one checked here. Scans rawHeaders: no per-request allocation.
 */
export function hasDuplicateHost(req: IncomingMessage): boolean {
  const raw = req.rawHeaders;
  let seen = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && name.toLowerCase() === 'host') {
      if (seen) return true;
      seen = true;
    }
  }
  return false;
}

/** Whether the request announces a body (chunked, or a non-zero Content-Length). */
export function hasRequestBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Requests whose body no step may read (authorizer decisions): `readBody` sees an empty body. */
const WITHHELD_BODIES = new WeakSet<IncomingMessage>();

/**
 * Withhold the body of `req` from every body reader: the authorizer listener decides without one, as
 * nginx's `auth_request` sends none, so a step that reads bodies (an OAuth endpoint) neither waits
 * for a slow body nor acts on one.
 */
export function withholdBody(req: IncomingMessage): void {
  WITHHELD_BODIES.add(req);
}

/** Read a whole request body, refusing more than `limit` bytes with 413. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  if (WITHHELD_BODIES.has(req)) return Promise.resolve(Buffer.alloc(0));
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    req.resume();
    return Promise.reject(new PayloadTooLargeError(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.resume();
        reject(new PayloadTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', () => reject(new BadRequestError('The request body could not be read')));
  });
}

/** Media type of the request without parameters, lower-cased ('' when absent). */
export function mediaType(req: { readonly headers: RequestHeaders }): string {
  const type = req.headers['content-type'];
  if (!type) return '';
  const semi = type.indexOf(';');
  return (semi === -1 ? type : type.slice(0, semi)).trim().toLowerCase();
}

export function isJsonMediaType(type: string): boolean {
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/** Read and parse a JSON body: 415 for another media type, 413 over `limit`, 400 when malformed. */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  if (!isJsonMediaType(mediaType(req))) throw new UnsupportedMediaTypeError();
  const body = await readBody(req, limit);
  if (body.length === 0) throw new BadRequestError('The request body is empty; a JSON document is expected');
  const text = body.toString('utf8');
  assertJsonDepth(text);
  try {
    return JSON.parse(text, rejectForbiddenKeys);
  } catch (error) {
    throw new BadRequestError(`The request body is not valid JSON: ${(error as Error).message}`);
  }
}

/** Deepest nesting of arrays and objects accepted in a JSON document (admin bodies, WebSocket messages). */
export const MAX_JSON_DEPTH = 64;

/**
 * Refuse JSON nested deeper than `max` with 400, by a linear scan of the text before it is parsed:
 * everything after the parser (structuredClone, schema validation, the store) recurses per level
 * and would overflow the stack on a few thousand levels.
 */
export function assertJsonDepth(text: string, max = MAX_JSON_DEPTH): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) throw new BadRequestError(`JSON nesting is limited to ${max} levels`);
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
}
