/**
 * The per-request context every plugin step receives. Plugins add their own typed attributes by
 * module augmentation of `ContextAttributes`, so the core never imports a plugin's types:
 *
 * @example
 * declare module '../../core/plugin-api.js' {
 *   interface ContextAttributes { apikey?: ApiKey }
 * }
 */
import type { Logger } from 'pino';
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ContextAttributes {}

/**
 * The route a request matched. router.ts completes this interface with its compiled route (module
 * augmentation), because a compiled route holds the pipeline whose steps take this context: the
 * context names the route without importing the router, so the two modules do not import each other.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface MatchedRoute {}

/**
 * Request headers as received, lower-case names. As Node's HTTP/1.1 and HTTP/2 servers give them:
 * a repeated header is joined into one string, except the few the transports keep as arrays, so a
 * header named in configuration may be an array; the ones below are always single strings.
 */
export interface RequestHeaders {
  readonly [name: string]: string | string[] | undefined;
  readonly accept?: string;
  readonly authorization?: string;
  readonly 'content-length'?: string;
  readonly 'content-type'?: string;
  readonly cookie?: string;
  readonly host?: string;
  readonly origin?: string;
  readonly 'access-control-request-method'?: string;
  readonly 'access-control-request-headers'?: string;
  readonly 'user-agent'?: string;
}

/** Response header values as a step may set them. */
export type ResponseHeaders = Record<string, string | number | string[] | undefined>;

/** What transformResponse steps may change before the response head is sent. */
export interface ResponseHead {
  status: number;
  headers: ResponseHeaders;
}

/** What every listener knows of a request when it makes its context. */
export interface RequestInit {
  id: string;
  /** The method to decide on (the authorizer's is the original request's). */
  method: string;
  host: string;
  path: string;
  search: string;
  scheme: string;
  clientIp: string;
  headers: RequestHeaders;
  upstreamHeaders: Record<string, string | string[] | undefined>;
  log: Logger;
  /** `RequestTarget.pathParameters`; default false. */
  pathParameters?: boolean;
}

/**
 * What a plugin step sees of a request, the same on every listener (HTTP/1.1 proxy, the authorizer,
 * the request tester, later HTTP/2): no transport object. A listener subclasses it once
 * (`core/http/served-request.ts`) to answer, read the body and keep its own bookkeeping (timings, the
 * upstream call), so a request costs one object and no closure.
 */
export class RequestContext {
  readonly id: string;
  readonly method: string;
  /** Lower-cased Host without port. */
  readonly host: string;
  /** The request path, normalized once (see `request-path.ts`), without the query: routing matches it. */
  readonly path: string;
  /** The client's path had `;` parameters, removed from `path`: only a route with `frontend.allowPathParameters` takes it. */
  readonly pathParameters: boolean;
  /** Raw query string including `?`, or '' (plugins may rewrite what goes upstream). */
  search: string;
  /** `http` or `https` as seen by the client (honours X-Forwarded-Proto from trusted proxies). */
  readonly scheme: string;
  readonly clientIp: string;
  /** The request headers as the client sent them (a view; `upstreamHeaders` is what goes upstream). */
  readonly headers: RequestHeaders;
  route: MatchedRoute | null = null;
  /**
   * The path prefix of the route's domain that matched (`/v1` for `api.test/v1`), '' for none or
   * before routing: with the scheme and host, the route's base URL (an authorization server's issuer).
   */
  routePrefix = '';
  /**
   * The path relative to the route, set by the core when the route matches: the normalized path the
   * upstream receives, without the target URL's base path (with `stripPath`, the part after the
   * route's prefix; without it, the whole path). Access rules and plugin include/exclude filters
   * match it; it does not change when a plugin rewrites `upstreamPath`. Before routing (sinks): `path`.
   */
  routePath: string;
  /** The path sent upstream (after stripPath); plugins may rewrite it. */
  upstreamPath: string;
  /** Headers sent upstream; hop-by-hop headers already removed. */
  readonly upstreamHeaders: Record<string, string | string[] | undefined>;
  /** Extra headers added to the response sent to the client (errors included). */
  responseHeaders: Record<string, string> | null = null;
  readonly attrs: ContextAttributes = {};
  /** Who called, once an authentication plugin identified them (access logs, metrics). */
  consumer: string | null = null;
  /**
   * Lower-case names of request headers that carried a credential, set by the plugin that read it
   * (the request tester masks them); null when none did. An assignment, never an allocation.
   */
  credentialHeaders: readonly string[] | null = null;
  /** Set when the response is sent (for logs and metrics). */
  status = 0;
  /** The plugin whose step denied (threw) or answered the request, for the metrics; null when none did. */
  decidedBy: string | null = null;
  /** True once a step answered the request itself (CORS preflight, a sink): later steps do not run. */
  handled = false;
  readonly #baseLog: Logger;
  #log: Logger | null = null;
  #query: URLSearchParams | null = null;

  constructor(init: RequestInit) {
    this.id = init.id;
    this.method = init.method;
    this.host = init.host;
    this.path = init.path;
    this.pathParameters = init.pathParameters === true;
    this.search = init.search;
    this.scheme = init.scheme;
    this.clientIp = init.clientIp;
    this.headers = init.headers;
    this.routePath = init.path;
    this.upstreamPath = init.path;
    this.upstreamHeaders = init.upstreamHeaders;
    this.#baseLog = init.log;
  }

  /** A child logger bound to this request id, made on first use only. */
  get log(): Logger {
    return (this.#log ??= this.#baseLog.child({ requestId: this.id }));
  }

  /** The query parameters, parsed on first use only (a request no step asks about parses nothing). */
  get query(): URLSearchParams {
    return (this.#query ??= new URLSearchParams(this.search));
  }

  /** Whether the client's own connection to the gateway is TLS (not what a proxy in front says). */
  get secureConnection(): boolean {
    return false;
  }

  /**
   * Answer the request from the gateway (a plugin short-circuiting the upstream). `body` is sent as
   * JSON unless it is a string or Buffer; headers added with `addResponseHeader` are included.
   */
  respond(status: number, body?: unknown, headers?: Record<string, string>): void {
    this.handled = true;
    this.status = status;
    const payload =
      body === undefined ? '' : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    const head: Record<string, string | number> = {
      ...this.responseHeaders,
      ...headers,
      'content-length': Buffer.byteLength(payload),
    };
    if (body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body) && head['content-type'] === undefined)
      head['content-type'] = 'application/json; charset=utf-8';
    this.sendAnswer(status, head, payload);
  }

  /**
   * Write an answer to the client; the listener's subclass does it. Here, with no client to write to
   * (the authorizer decides from `status`), nothing is written.
   */
  protected sendAnswer(_status: number, _head: Record<string, string | number>, _payload: string | Buffer): void {}

  /** The whole request body, refusing more than `limit` bytes with 413; empty where no body is read (the authorizer). */
  readBody(_limit: number): Promise<Buffer> {
    return Promise.resolve(Buffer.alloc(0));
  }

  /** Discard the request body unread (an answer that does not need it), so the connection can be reused. */
  discardBody(): void {}

  /** Add a header to whatever response the client gets. */
  addResponseHeader(name: string, value: string): void {
    (this.responseHeaders ??= {})[name.toLowerCase()] = value;
  }
}
