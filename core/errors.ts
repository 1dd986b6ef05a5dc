/**
 * Every error the gateway answers with, declared once. A `GatewayError` carries the HTTP status,
 * the protocol error code (the RFC string where one exists) and a message that is safe to show.
 * One boundary (`renderError` in http-utils.ts) turns them into responses; anything that is not a
 * GatewayError becomes a generic 500 and is logged, never shown.
 *
 * `ERROR_CODES` is the list of codes with their status; `docs/errors.md` documents the same list
 * (test/core/errors.test.ts pins it both ways), and the constructor's types only accept a code from
 * it with its own status, so a new error starts here. Nothing outside this file constructs a
 * `GatewayError` directly: declare a one-line class below and throw that.
 */

export const ERROR_CODES = {
  invalid_request: 400,
  validation_failed: 400,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  unauthorized: 401,
  invalid_client: 401,
  invalid_token: 401,
  invalid_credentials: 401,
  session_expired: 401,
  forbidden: 403,
  insufficient_scope: 403,
  cors_origin_not_allowed: 403,
  ip_not_allowed: 403,
  not_found: 404,
  no_route: 404,
  method_not_allowed: 405,
  misdirected_request: 421,
  conflict: 409,
  invalid_transition: 409,
  request_timeout: 408,
  request_header_fields_too_large: 431,
  payload_too_large: 413,
  unsupported_media_type: 415,
  too_many_requests: 429,
  server_error: 500,
  bad_gateway: 502,
  route_unavailable: 503,
  temporarily_unavailable: 503,
  state_unavailable: 503,
  introspection_unavailable: 503,
  gateway_timeout: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
/** A declared code preceded by its own status: `[403, 'forbidden']` type-checks, `[400, 'forbidden']` does not. */
type StatusAndCode = { [C in ErrorCode]: [status: (typeof ERROR_CODES)[C], code: C] }[ErrorCode];

export interface ErrorDetail {
  /** JSON pointer-like path to the offending value, e.g. `/frontend/domains/0`. */
  path: string;
  message: string;
}

interface GatewayErrorOptions {
  headers?: Record<string, string>;
  details?: ErrorDetail[];
  cause?: unknown;
}

export class GatewayError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  /** Whether `message` may be shown to the client. */
  readonly expose: boolean = true;
  /** Extra response headers (WWW-Authenticate, Retry-After…). */
  headers?: Record<string, string>;
  details?: ErrorDetail[];

  constructor(...[status, code, message, options]: [...StatusAndCode, message: string, options?: GatewayErrorOptions]) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    // The types already refuse this; the check covers JavaScript callers and casts.
    if ((ERROR_CODES as Record<string, number>)[code] !== status)
      throw new TypeError(`Error code ${status} ${code} is not declared in ERROR_CODES`);
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
export class BadRequestError extends GatewayError {
  constructor(message: string, details?: ErrorDetail[]) {
    super(400, 'invalid_request', message, { details });
  }
}
export class ValidationError extends GatewayError {
  constructor(message: string, details: ErrorDetail[]) {
    super(400, 'validation_failed', message, { details });
  }
}
export class UnsupportedMediaTypeError extends GatewayError {
  constructor(message = 'Content-Type must be application/json') {
    super(415, 'unsupported_media_type', message);
  }
}
export class PayloadTooLargeError extends GatewayError {
  constructor(limit: number, what = 'Request body') {
    super(413, 'payload_too_large', `${what} exceeds the limit of ${limit} bytes`);
  }
}
export class NotFoundError extends GatewayError {
  constructor(message = 'Not found') {
    super(404, 'not_found', message);
  }
}
export class MethodNotAllowedError extends GatewayError {
  constructor(allowed: string[]) {
    super(405, 'method_not_allowed', `Method not allowed; allowed: ${allowed.join(', ')}`, {
      headers: { allow: allowed.join(', ') },
    });
  }
}
export class ConflictError extends GatewayError {
  constructor(message: string) {
    super(409, 'conflict', message);
  }
}
export class AdminUnauthorizedError extends GatewayError {
  constructor() {
    super(401, 'unauthorized', 'Admin credentials required', {
      headers: { 'www-authenticate': 'Basic realm="portcullis-admin", charset="UTF-8"' },
    });
  }
}
export class InvalidCredentialsError extends GatewayError {
  constructor(message = 'Wrong user name or password') {
    super(401, 'invalid_credentials', message);
  }
}
export class SessionExpiredError extends GatewayError {
  constructor() {
    super(401, 'session_expired', 'Your session has expired; log in again');
  }
}
export class ForbiddenError extends GatewayError {
  constructor(message: string) {
    super(403, 'forbidden', message);
  }
}
/** An admin API token used on an endpoint outside its scopes (the admin's own credentials reach every endpoint). */
export class TokenScopeError extends GatewayError {
  constructor(message: string) {
    super(403, 'forbidden', message);
  }
}
/** A state change its state machine does not allow from the current state (approve a rejected access request). */
export class ForbiddenTransitionError extends GatewayError {
  constructor(message: string) {
    super(409, 'invalid_transition', message);
  }
}
export class InternalServerError extends GatewayError {
  constructor() {
    super(500, 'server_error', 'Internal gateway error');
  }
}
/** Token issuance whose atomic write failed: no token was handed out (RFC 6749 §5.2 body shape). */
export class TokensNotStoredError extends GatewayError {
  constructor(cause: unknown) {
    super(500, 'server_error', 'The tokens could not be stored, so none was issued; try again', { cause });
  }
}
export class TooManyRequestsError extends GatewayError {
  constructor(message: string, headers: Record<string, string>) {
    super(429, 'too_many_requests', message, { headers });
  }
}

/** The server refuses work it cannot take now (password hashing saturated, connection cap reached). */
export class ServiceBusyError extends GatewayError {
  constructor(message: string, retryAfterSeconds = 1) {
    super(503, 'temporarily_unavailable', message, { headers: { 'retry-after': String(retryAfterSeconds) } });
  }
}
export class RequestTimeoutError extends GatewayError {
  constructor() {
    super(408, 'request_timeout', 'The request was not received in time');
  }
}
/** RFC 6585 §5: the request's header section is over Node's limit (`--max-http-header-size`, 16 KiB). */
export class HeadersTooLargeError extends GatewayError {
  constructor() {
    super(431, 'request_header_fields_too_large', 'The request headers are too large');
  }
}

// ── proxy errors ─────────────────────────────────────────────────────────────
export class NoRouteError extends GatewayError {
  constructor() {
    super(404, 'no_route', 'No route matches this request');
  }
}
export class BadGatewayError extends GatewayError {
  constructor(message = 'The upstream service could not be reached') {
    super(502, 'bad_gateway', message);
  }
}
/** `upstream-jwt`: the route's signing key is missing or unusable, so the request is refused rather than forwarded without its token (fail closed). */
export class UpstreamTokenUnavailableError extends GatewayError {
  constructor() {
    super(502, 'bad_gateway', 'The gateway could not sign the token this route sends upstream; see the gateway logs');
  }
}
/** A header value the gateway built (a plugin, the route's configuration) that HTTP cannot carry: the request is not forwarded; a gateway fault, not the upstream's. */
export class UnsendableHeaderError extends GatewayError {
  constructor(header: string) {
    super(
      500,
      'server_error',
      `The gateway built a value for the ${header} header that HTTP cannot carry, so the request was not forwarded; see the gateway logs`,
    );
  }
}
export class GatewayTimeoutError extends GatewayError {
  constructor(message = 'The upstream service did not answer in time') {
    super(504, 'gateway_timeout', message);
  }
}
/** A `mode: "authorizer"` route has no backend: its requests are served by the ingress that asks the authorizer listener. */
export class AuthorizerOnlyRouteError extends GatewayError {
  constructor(routeId: string) {
    super(
      421,
      'misdirected_request',
      `Route ${routeId} has no backend: it only answers an ingress's authorization requests on the authorizer listener`,
    );
  }
}
export class RouteMisconfiguredError extends GatewayError {
  constructor() {
    super(503, 'route_unavailable', 'This route is misconfigured; see the gateway logs');
  }
}
export class StateUnavailableError extends GatewayError {
  constructor(message = "The gateway's state store cannot be reached; try again shortly") {
    super(503, 'state_unavailable', message);
  }
}
export class IntrospectionUnavailableError extends GatewayError {
  constructor(message = 'The authorization server could not check the token; try again shortly') {
    super(503, 'introspection_unavailable', message);
  }
}

// ── access plugins: credentials on protected routes (RFC 6750 §3 for bearer tokens) ──
/** 401 without usable credentials; `challenges` is the route's `WWW-Authenticate` value, if any. */
export class UnauthorizedError extends GatewayError {
  constructor(message: string, challenges?: string) {
    super(401, 'unauthorized', message, challenges ? { headers: { 'www-authenticate': challenges } } : undefined);
  }
}
/** 401 for a bearer token that is not valid; the route's plain Bearer challenge (among `challenges`) carries the error. */
export class InvalidBearerTokenError extends GatewayError {
  constructor(message: string, realm: string, challenges = bearerChallenge(realm)) {
    super(401, 'invalid_token', message, {
      headers: {
        'www-authenticate': challenges.replace(bearerChallenge(realm), () =>
          bearerChallenge(realm, { error: 'invalid_token', description: message }),
        ),
      },
    });
  }
}
export class InsufficientScopeError extends GatewayError {
  constructor(message: string, scope: string, realm: string) {
    super(403, 'insufficient_scope', message, {
      headers: {
        'www-authenticate': bearerChallenge(realm, { error: 'insufficient_scope', description: message, scope }),
      },
    });
  }
}
export class CorsOriginNotAllowedError extends GatewayError {
  constructor(origin: string) {
    super(403, 'cors_origin_not_allowed', `Origin ${origin} is not allowed`);
  }
}
export class IpNotAllowedError extends GatewayError {
  constructor(message = 'Your IP address is not allowed') {
    super(403, 'ip_not_allowed', message);
  }
}

// ── OAuth 2.0 / bearer token errors (RFC 6749 §5.2, RFC 6750 §3.1) ──────────
export class OAuthError extends GatewayError {}
export class InvalidRequestError extends OAuthError {
  constructor(message: string) {
    super(400, 'invalid_request', message);
  }
}
export class InvalidClientError extends OAuthError {
  constructor(message = 'Client authentication failed', basicUsed = false) {
    super(
      401,
      'invalid_client',
      message,
      basicUsed ? { headers: { 'www-authenticate': 'Basic realm="portcullis", charset="UTF-8"' } } : undefined,
    );
  }
}
export class InvalidGrantError extends OAuthError {
  constructor(message: string) {
    super(400, 'invalid_grant', message);
  }
}
export class UnauthorizedClientError extends OAuthError {
  constructor(message: string) {
    super(400, 'unauthorized_client', message);
  }
}
export class UnsupportedGrantTypeError extends OAuthError {
  constructor(message: string) {
    super(400, 'unsupported_grant_type', message);
  }
}
export class InvalidScopeError extends OAuthError {
  constructor(message: string) {
    super(400, 'invalid_scope', message);
  }
}

/**
 * An RFC 6750 §3 `Bearer` challenge for `realm`: the realm alone when the request carried no token
 * (§3.1 says no error code then), otherwise the error, its description and the scope a 403 needs.
 */
export function bearerChallenge(
  realm: string,
  error?: { error: 'invalid_token' | 'insufficient_scope'; description: string; scope?: string },
): string {
  const challenge = `Bearer realm=${quoteAuthParam(realm)}`;
  if (!error) return challenge;
  const scope = error.scope === undefined ? '' : `, scope=${quoteAuthParam(error.scope)}`;
  return `${challenge}, error="${error.error}", error_description=${quoteAuthParam(error.description)}${scope}`;
}

/** Quote a value for an RFC 7235 auth-param (backslash-escape `"` and `\`). */
export function quoteAuthParam(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
