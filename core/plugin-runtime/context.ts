/**
 * The per-request context every plugin step receives. Plugins add their own typed attributes by
 * module augmentation of `ContextAttributes`, so the core never imports a plugin's types:
 *
 * @example
 * declare module '../../core/plugin-api.js' {
 *   interface ContextAttributes { apikey?: ApiKey }
 * }
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse, type OutgoingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
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

/** What transformResponse steps may change before the response head is sent. */
export interface ResponseHead {
  status: number;
  headers: OutgoingHttpHeaders;
}

export class RequestContext {
  readonly req: IncomingMessage;
  /** Null for WebSocket upgrades, which answer on `socket`. */
  readonly res: ServerResponse | null;
  readonly socket: Duplex | null;
  readonly id: string;
  readonly startedAt: number;
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
  /** The upstream target that served the request. */
  target: string | null = null;
  /** Set when the response is sent (for logs and metrics). */
  status = 0;
  /** The plugin whose step denied (threw) or answered the request, for the metrics; null when none did. */
  decidedBy: string | null = null;
  /** `performance.now()` when the upstream call was made (0: never), and when its response head arrived. */
  upstreamAt = 0;
  upstreamRespondedAt = 0;
  /** Whether the upstream call was aborted because the client went away. */
  aborted = false;
  #abortListener: (() => void) | null = null;
  /** True once a step answered the request itself (CORS preflight, a sink): later steps do not run. */
  handled = false;
  readonly #baseLog: Logger;
  #log: Logger | null = null;

  constructor(init: {
    req: IncomingMessage;
    res: ServerResponse | null;
    socket: Duplex | null;
    id: string;
    host: string;
    path: string;
    search: string;
    scheme: string;
    clientIp: string;
    upstreamHeaders: Record<string, string | string[] | undefined>;
    log: Logger;
    /** The method to decide on, when it is not the request's own (the authorizer's original method). */
    method?: string;
    /** `RequestTarget.pathParameters`; default false. */
    pathParameters?: boolean;
  }) {
    this.req = init.req;
    this.res = init.res;
    this.socket = init.socket;
    this.id = init.id;
    this.startedAt = performance.now();
    this.method = init.method ?? init.req.method ?? 'GET';
    this.host = init.host;
    this.path = init.path;
    this.pathParameters = init.pathParameters === true;
    this.search = init.search;
    this.scheme = init.scheme;
    this.clientIp = init.clientIp;
    this.routePath = init.path;
    this.upstreamPath = init.path;
    this.upstreamHeaders = init.upstreamHeaders;
    this.#baseLog = init.log;
  }

  /** A child logger bound to this request id, made on first use only. */
  get log(): Logger {
    return (this.#log ??= this.#baseLog.child({ requestId: this.id }));
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
    if (this.res) {
      this.res.writeHead(status, head);
      this.res.end(payload);
    } else if (this.socket) {
      const lines = Object.entries(head)
        .map(([k, v]) => `${k}: ${v}`)
        .join('\r\n');
      this.socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${lines}\r\nconnection: close\r\n\r\n${payload.toString()}`,
      );
    }
  }

  // The context doubles as the upstream call's abort signal, in the emitter shape undici accepts:
  // one object per request instead of an AbortController and its EventTarget.
  on(_event: 'abort', listener: () => void): this {
    this.#abortListener = listener;
    return this;
  }
  once(_event: 'abort', listener: () => void): this {
    this.#abortListener = listener;
    return this;
  }
  removeListener(_event: 'abort', listener: () => void): this {
    if (this.#abortListener === listener) this.#abortListener = null;
    return this;
  }

  /** Abort the upstream call (the client went away). */
  abortUpstream(): void {
    if (this.aborted) return;
    this.aborted = true;
    const listener = this.#abortListener;
    this.#abortListener = null;
    listener?.();
  }

  /** Add a header to whatever response the client gets. */
  addResponseHeader(name: string, value: string): void {
    (this.responseHeaders ??= {})[name.toLowerCase()] = value;
  }
}
