/**
 * Every error the gateway answers with, declared once. A `GatewayError` carries the HTTP status,
 * the protocol error code (the RFC string where one exists) and a message that is safe to show.
 * One boundary (`renderError` in http-utils.ts) turns them into responses; anything that is not a
 * GatewayError becomes a generic 500 and is logged, never shown.
 */

export interface ErrorDetail {
  /** JSON pointer-like path to the offending value, e.g. `/frontend/domains/0`. */
  path: string;
  message: string;
}

export class GatewayError extends Error {
  readonly status: number;
  readonly code: string;
  /** Whether `message` may be shown to the client. */
  readonly expose: boolean = true;
  /** Extra response headers (WWW-Authenticate, Retry-After…). */
  headers?: Record<string, string>;
  details?: ErrorDetail[];

  constructor(status: number, code: string, message: string, options?: { headers?: Record<string, string>; details?: ErrorDetail[]; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.code = code;
    if (options?.headers) this.headers = options.headers;
    if (options?.details) this.details = options.details;
  }

  /** Attach the underlying cause (kept for logs, never sent). */
  withCause(cause: unknown): this {
    Object.defineProperty(this, 'cause', { value: cause, enumerable: false, configurable: true });
    return this;
  }

  /** The JSON body sent to the client. */
  toJSON(): Record<string, unknown> {
    const body: Record<string, unknown> = { error: this.code, error_description: this.message };
    if (this.details) body.details = this.details;
    return body;
  }
}

// ── generic HTTP / admin errors ──────────────────────────────────────────────
export class BadRequestError extends GatewayError { constructor(message: string, details?: ErrorDetail[]) { super(400, 'invalid_request', message, { details }); } }
export class ValidationError extends GatewayError { constructor(message: string, details: ErrorDetail[]) { super(400, 'validation_failed', message, { details }); } }
export class UnsupportedMediaTypeError extends GatewayError { constructor(message = 'Content-Type must be application/json') { super(415, 'unsupported_media_type', message); } }
export class PayloadTooLargeError extends GatewayError { constructor(limit: number) { super(413, 'payload_too_large', `Request body exceeds the limit of ${limit} bytes`); } }
export class NotFoundError extends GatewayError { constructor(message = 'Not found') { super(404, 'not_found', message); } }
export class MethodNotAllowedError extends GatewayError { constructor(allowed: string[]) { super(405, 'method_not_allowed', `Method not allowed; allowed: ${allowed.join(', ')}`, { headers: { allow: allowed.join(', ') } }); } }
export class ConflictError extends GatewayError { constructor(message: string) { super(409, 'conflict', message); } }
export class AdminUnauthorizedError extends GatewayError { constructor() { super(401, 'unauthorized', 'Admin credentials required', { headers: { 'www-authenticate': 'Basic realm="portcullis-admin", charset="UTF-8"' } }); } }
export class TooManyRequestsError extends GatewayError {
  constructor(message: string, headers: Record<string, string>) { super(429, 'too_many_requests', message, { headers }); }
}

/** The server refuses work it cannot take now (password hashing saturated, connection cap reached). */
export class ServiceBusyError extends GatewayError { constructor(message: string, retryAfterSeconds = 1) { super(503, 'temporarily_unavailable', message, { headers: { 'retry-after': String(retryAfterSeconds) } }); } }
export class RequestTimeoutError extends GatewayError { constructor() { super(408, 'request_timeout', 'The request was not received in time'); } }

// ── proxy errors ─────────────────────────────────────────────────────────────
export class NoRouteError extends GatewayError { constructor() { super(404, 'no_route', 'No route matches this request'); } }
export class BadGatewayError extends GatewayError { constructor(message = 'The upstream service could not be reached') { super(502, 'bad_gateway', message); } }
export class GatewayTimeoutError extends GatewayError { constructor(message = 'The upstream service did not answer in time') { super(504, 'gateway_timeout', message); } }
export class RouteMisconfiguredError extends GatewayError { constructor() { super(503, 'route_unavailable', 'This route is misconfigured; see the gateway logs'); } }

// ── OAuth 2.0 / bearer token errors (RFC 6749 §5.2, RFC 6750 §3.1) ──────────
export class OAuthError extends GatewayError {}
export class InvalidRequestError extends OAuthError { constructor(message: string) { super(400, 'invalid_request', message); } }
export class InvalidClientError extends OAuthError {
  constructor(message = 'Client authentication failed', basicUsed = false) {
    super(401, 'invalid_client', message, basicUsed ? { headers: { 'www-authenticate': 'Basic realm="portcullis", charset="UTF-8"' } } : undefined);
  }
}
export class InvalidGrantError extends OAuthError { constructor(message: string) { super(400, 'invalid_grant', message); } }
export class UnauthorizedClientError extends OAuthError { constructor(message: string) { super(400, 'unauthorized_client', message); } }
export class UnsupportedGrantTypeError extends OAuthError { constructor(message: string) { super(400, 'unsupported_grant_type', message); } }
export class InvalidScopeError extends OAuthError { constructor(message: string) { super(400, 'invalid_scope', message); } }

/** Quote a value for an RFC 7235 auth-param (backslash-escape `"` and `\`). */
export function quoteAuthParam(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
