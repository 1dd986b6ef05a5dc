/**
 * The authorizer listener's request handler (external-authorizer mode): an ingress (nginx
 * `auth_request`, Traefik ForwardAuth, Envoy `ext_authz` HTTP service) asks whether the request it
 * holds may pass. The original method, host, path and headers go through the same normalization,
 * routing and request steps of the route's compiled pipeline as on the proxy listener; nothing is
 * proxied and no body is read. Answers: 200 with the identity headers the steps set for the
 * upstream, the plugin's own 401 or 403 (with its challenge), or a 5xx for an internal fault only.
 *
 * One endpoint per ingress, chosen by the ingress' own configuration, so a client can never pick
 * which headers describe its request (a header the client sends is passed along by some ingresses):
 * - `/nginx`: `X-Original-Method`, `X-Original-URI`, `X-Original-Host` (or the `Host` header);
 * - `/traefik`: `X-Forwarded-Method`, `X-Forwarded-Uri`, `X-Forwarded-Host` (or `Host`), `X-Forwarded-Proto`;
 * - `/envoy/<original path>`: Envoy's `path_prefix: /envoy`; the request's own method and `Host`.
 * `/nginx` and `/traefik` answer only `authorizer.trustedProxies` (403 for anyone else): their
 * headers are the ingress' word. `X-Forwarded-Proto` and `-For` are honoured from those addresses only.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { inject, injectable } from 'tsyringe';
import { ServedRequest } from './served-request.js';
import {
  BadRequestError,
  ForbiddenError,
  GatewayError,
  RouteMisconfiguredError,
  UnauthorizedError,
} from '../errors.js';
import { upstreamRequestHeaders } from './headers.js';
import {
  hasDuplicateHost,
  hasRequestBody,
  isServerFault,
  sendJson,
  toGatewayError,
  withholdBody,
} from './http-utils.js';
import { runRequestSteps } from '../plugin-runtime/pipeline.js';
import { normalizeHost, parseRequestTarget } from '../config/request-path.js';
import { newRequestId } from './request-id.js';
import { routeRequest, type CompiledRoute } from '../compiler/router.js';
import { CompiledConfig } from '../compiler/snapshot.js';
import { BOOT_CONFIG, LOGGER } from '../tokens.js';
import type { BootConfig } from '../config/boot-config.js';
import { createAccessLogger, type AccessEntry, type AccessLogger } from './access-log.js';
import { TrafficStats } from './traffic.js';
import { TrustedProxies, firstValue, stripMappedPrefix } from './forwarding.js';
import { headerValue } from './header-values.js';

type Headers = Record<string, string | string[] | undefined>;

/** The request the ingress asks about. */
interface OriginalRequest {
  method: string;
  /** Request target: path and query. */
  target: string;
  host: string | undefined;
}

const NGINX = '/nginx';
const TRAEFIK = '/traefik';
const ENVOY = '/envoy';
const UNTRUSTED = 'The /nginx and /traefik endpoints answer only the addresses in authorizer.trustedProxies';
const UNKNOWN_ENDPOINT = 'Unknown authorizer endpoint: ask /nginx, /traefik or /envoy/<original path>';
const NO_ROUTE = 'No route matches this request';
const BAD_TARGET = 'Malformed request target';
/** Decisions are counted apart from proxied traffic: their latency is not an upstream's. */
const TRAFFIC_PREFIX = 'authorizer:';

@injectable()
export class AuthorizerHandler {
  readonly #compiled: CompiledConfig;
  readonly #log: Logger;
  readonly #accessLog: AccessLogger;
  readonly #traffic: TrafficStats;
  readonly #trusted: TrustedProxies;
  readonly #unmatched: () => GatewayError;
  #lastUntrustedWarning = 0;

  constructor(
    compiled: CompiledConfig,
    traffic: TrafficStats,
    @inject(LOGGER) log: Logger,
    @inject(BOOT_CONFIG) config: BootConfig,
  ) {
    const settings = config.authorizer;
    if (!settings) throw new Error('the authorizer listener is not configured');
    this.#compiled = compiled;
    this.#traffic = traffic;
    this.#log = log.child({ component: 'authorizer' });
    this.#accessLog = createAccessLogger(log);
    this.#trusted = new TrustedProxies(settings.trustedProxies);
    this.#unmatched =
      settings.unmatched === 403 ? () => new ForbiddenError(NO_ROUTE) : () => new UnauthorizedError(NO_ROUTE);
  }

  /** `request` listener of the authorizer server. */
  readonly handleRequest = (req: IncomingMessage, res: ServerResponse): void => {
    // The body is never read: close the connection after answering rather than drain it.
    if (hasRequestBody(req)) res.shouldKeepAlive = false;
    withholdBody(req);
    const remote = stripMappedPrefix(req.socket.remoteAddress ?? '');
    const trusted = this.#trusted.trusts(remote);
    const original = hasDuplicateHost(req)
      ? new ForbiddenError('A request carries one Host header')
      : this.#original(req, trusted);
    const ctx = original instanceof GatewayError ? null : this.#createContext(req, original, remote, trusted);
    if (!ctx) {
      if (original instanceof GatewayError && original.message === UNTRUSTED) this.#warnUntrusted(remote);
      // The proxy's 400 for a target it would refuse, answered as a 403 with the same code (see #answerError).
      this.#answerError(
        res,
        null,
        original instanceof GatewayError ? original : new BadRequestError(BAD_TARGET),
        remoteEntry(req, remote),
      );
      return;
    }
    this.#decide(ctx, res).catch((error: unknown) => this.#answerError(res, ctx, error));
  };

  /** A missing trustedProxies entry refuses every decision: say so, at most every 10 s (no log flood). */
  #warnUntrusted(remote: string): void {
    const now = Date.now();
    if (now - this.#lastUntrustedWarning < 10_000) return;
    this.#lastUntrustedWarning = now;
    this.#log.warn({ remote }, 'authorization request from an address outside authorizer.trustedProxies refused');
  }

  /** The original request, from the endpoint's shape; a GatewayError when it cannot be had. */
  #original(req: IncomingMessage, trusted: boolean): OriginalRequest | GatewayError {
    const h = req.headers;
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const endpoint = query === -1 ? url : url.slice(0, query);
    if (endpoint === NGINX || endpoint === TRAEFIK) {
      if (!trusted) return new ForbiddenError(UNTRUSTED);
      const nginx = endpoint === NGINX;
      const method = single(nginx ? h['x-original-method'] : h['x-forwarded-method']);
      const target = single(nginx ? h['x-original-uri'] : h['x-forwarded-uri']);
      // Deciding on a guessed method or path could allow what the real request may not do.
      if (method === undefined || target === undefined)
        return new ForbiddenError(
          nginx
            ? 'X-Original-Method and X-Original-URI are required'
            : 'X-Forwarded-Method and X-Forwarded-Uri are required',
        );
      return { method, target, host: single(nginx ? h['x-original-host'] : h['x-forwarded-host']) ?? h.host };
    }
    if (
      url.startsWith(ENVOY) &&
      (url.length === ENVOY.length || url[ENVOY.length] === '/' || url[ENVOY.length] === '?')
    ) {
      const rest = url.slice(ENVOY.length);
      return { method: req.method ?? 'GET', target: rest[0] === '/' ? rest : `/${rest}`, host: h.host };
    }
    return new ForbiddenError(UNKNOWN_ENDPOINT);
  }

  #createContext(
    req: IncomingMessage,
    original: OriginalRequest,
    remote: string,
    trusted: boolean,
  ): ServedRequest | null {
    // Only origin-form targets: an absolute URI or `*` is nothing an ingress forwards.
    if (original.target[0] !== '/' || !/^[A-Z!#$%&'*+.^_`|~0-9-]{1,32}$/i.test(original.method)) return null;
    const target = parseRequestTarget(original.target);
    if (!target) return null;
    const headers = upstreamRequestHeaders(req.headers);
    const forwardedProto = trusted ? firstValue(req.headers['x-forwarded-proto']) : undefined;
    const scheme = forwardedProto === 'https' || forwardedProto === 'http' ? forwardedProto : 'http';
    const priorFor = req.headers['x-forwarded-for'];
    const clientIp = trusted && typeof priorFor === 'string' ? this.#trusted.clientBehind(priorFor, remote) : remote;
    let id = req.headers['x-request-id'];
    if (typeof id !== 'string' || id.length === 0 || id.length > 200) id = newRequestId();
    return new ServedRequest({
      req,
      headers: req.headers,
      res: null,
      socket: null,
      id,
      method: original.method.toUpperCase(),
      host: normalizeHost(original.host),
      path: target.path,
      search: target.search,
      pathParameters: target.pathParameters,
      scheme,
      clientIp,
      upstreamHeaders: headers,
      log: this.#log,
    });
  }

  /** The context has no response to write to, so a step that answers (`ctx.respond`) writes nothing: the decision is answered here. */
  async #decide(ctx: ServedRequest, res: ServerResponse): Promise<void> {
    const route = routeRequest(this.#compiled.snapshot.routes, ctx);
    if (!route) throw this.#unmatched();
    if (!route.pipeline) throw new RouteMisconfiguredError();
    const before = { ...ctx.upstreamHeaders };
    await runRequestSteps(ctx, route.pipeline);
    // A step that answered the request itself (a CORS preflight): its 2xx lets the ingress serve
    // the request; anything else is a refusal like a thrown error.
    if (ctx.handled && (ctx.status < 200 || ctx.status > 299))
      throw new ForbiddenError(`The route's plugins answered ${ctx.status}`);
    const head: Record<string, string> = {
      'cache-control': 'no-store',
      ...ctx.responseHeaders,
      ...identityHeaders(ctx, before, route),
      'x-request-id': ctx.id,
    };
    sendJson(res, 200, { allowed: true }, head);
    ctx.status = 200;
    this.#record(ctx);
  }

  /**
   * A refusal or a fault. The plugin's own 401 or 403 is answered as it is; any other client error
   * (400 malformed path, 429 quota…) becomes a 403 with the same body, since an ingress passes on
   * only 401 and 403 (nginx answers 500 for anything else); a fault stays a 5xx.
   */
  #answerError(res: ServerResponse, ctx: ServedRequest | null, error: unknown, entry?: AccessEntry): void {
    const gatewayError = toGatewayError(error);
    if (isServerFault(error)) this.#log.error({ err: error, requestId: ctx?.id }, 'authorization decision failed');
    else
      this.#log.debug({ requestId: ctx?.id, routeId: ctx?.route?.id, error: gatewayError.message }, 'request refused');
    const status = gatewayError.status === 401 || gatewayError.status >= 500 ? gatewayError.status : 403;
    if (!res.headersSent)
      sendJson(res, status, gatewayError.toJSON(), {
        'cache-control': 'no-store',
        ...ctx?.responseHeaders,
        ...gatewayError.headers,
        'x-request-id': ctx?.id ?? entry?.requestId ?? '',
      });
    if (ctx) {
      ctx.status = status;
      this.#record(ctx);
    } else if (entry) {
      entry.status = status;
      this.#accessLog(entry);
      this.#traffic.record({ ...entry, routeId: TRAFFIC_PREFIX + '(no route)' });
    }
  }

  #record(ctx: ServedRequest): void {
    const entry: AccessEntry = {
      requestId: ctx.id,
      method: ctx.method,
      host: ctx.host,
      path: ctx.path,
      status: ctx.status,
      durationMs: Math.round((performance.now() - ctx.startedAt) * 100) / 100,
      routeId: ctx.route?.id ?? null,
      target: null,
      clientIp: ctx.clientIp,
      consumer: ctx.consumer,
      mode: 'authorizer',
    };
    this.#accessLog(entry);
    this.#traffic.record({ ...entry, routeId: TRAFFIC_PREFIX + (entry.routeId ?? '(no route)') });
  }
}

/**
 * What the ingress passes on: every upstream header the steps added or changed (consumer headers,
 * claims, a re-signed token), `x-envoy-auth-headers-to-remove` naming those they removed (Envoy
 * drops them from the request; nginx and Traefik configurations overwrite the identity headers
 * they pass on, see the README), and the route's `X-Auth-Request-*` headers.
 */
function identityHeaders(ctx: ServedRequest, before: Headers, route: CompiledRoute): Record<string, string> {
  const after = ctx.upstreamHeaders;
  const out: Record<string, string> = {};
  for (const name in after) {
    const value = after[name];
    if (value === undefined || value === before[name]) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const removed: string[] = [];
  for (const name in before) if (before[name] !== undefined && after[name] === undefined) removed.push(name);
  if (removed.length > 0) out['x-envoy-auth-headers-to-remove'] = removed.join(', ');
  const identity = route.identity;
  // The consumer may be a token's `sub`: any string, sent in the documented encoding.
  if (identity.user && ctx.consumer !== null) out['x-auth-request-user'] = headerValue(ctx.consumer);
  if (identity.emailHeader !== null) {
    const email = after[identity.emailHeader];
    if (typeof email === 'string') out['x-auth-request-email'] = email;
  }
  if (identity.accessToken) {
    const authorization = after.authorization;
    if (typeof authorization === 'string' && /^bearer /i.test(authorization))
      out['x-auth-request-access-token'] = authorization.slice(7).trim();
  }
  return out;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The access-log entry of a request refused before it had a context. */
function remoteEntry(req: IncomingMessage, remote: string): AccessEntry {
  const id = req.headers['x-request-id'];
  return {
    requestId: typeof id === 'string' && id.length > 0 && id.length <= 200 ? id : newRequestId(),
    method: req.method ?? 'GET',
    host: normalizeHost(req.headers.host),
    path: (req.url ?? '/').split('?')[0]!,
    status: 0,
    durationMs: 0,
    routeId: null,
    target: null,
    clientIp: remote,
    consumer: null,
    mode: 'authorizer',
  };
}
