/**
 * The authorizer listener's request handler (external-authorizer mode): an ingress (nginx
 * `auth_request`, Traefik ForwardAuth, Envoy `ext_authz` HTTP service) asks whether the request it
 * holds may pass. The original method, host, path and headers go through the same normalization,
 * routing and request steps of the route's compiled pipeline as on the proxy listener; nothing is
 * proxied and no body is read. Answers: 200 with the identity headers the steps set for the
 * upstream, the plugin's own 401 or 403 (with its challenge), or a 5xx for an internal fault only.
 *
 * Request shapes, tried in this order:
 * - nginx: `X-Original-URI`, `X-Original-Method`, host from `X-Original-Host`, `X-Forwarded-Host` or `Host`;
 * - Traefik: `X-Forwarded-Uri`, `X-Forwarded-Method`, `X-Forwarded-Host`, `X-Forwarded-Proto`;
 * - Envoy (or a direct call): the request itself, `authorizer.pathPrefix` removed from its path.
 * `X-Original-*`, `X-Forwarded-Uri` and `X-Forwarded-Method` are honoured only from
 * `authorizer.trustedProxies`; from anyone else they are refused (403), since deciding on the
 * authorization request's own path instead would allow whatever its path allows.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { inject, injectable } from 'tsyringe';
import { RequestContext } from './context.js';
import { ForbiddenError, GatewayError, RouteMisconfiguredError, UnauthorizedError } from '../errors.js';
import { upstreamRequestHeaders } from './headers.js';
import { hasDuplicateHost, hasRequestBody, isServerFault, sendJson, toGatewayError } from './http-utils.js';
import { runRequestSteps } from '../plugin-runtime/pipeline.js';
import { normalizeHost, parseRequestTarget } from './request-path.js';
import { routeRequest, type CompiledRoute } from './router.js';
import { State } from '../config/compiled-state.js';
import { BOOT_CONFIG, LOGGER } from '../tokens.js';
import type { BootConfig } from '../config/boot-config.js';
import { createAccessLogger, type AccessEntry, type AccessLogger } from './access-log.js';
import { TrafficStats } from './traffic.js';
import { TrustedProxies, firstValue, stripMappedPrefix } from './forwarding.js';

type Headers = Record<string, string | string[] | undefined>;

/** The request the ingress asks about. */
interface OriginalRequest {
  method: string;
  /** Request target: path and query. */
  target: string;
  host: string | undefined;
}

const UNTRUSTED = 'X-Original-* and X-Forwarded-Uri/-Method headers are honoured only from authorizer.trustedProxies';
const NO_ROUTE = 'No route matches this request';
const BAD_TARGET = 'Malformed request target';
/** Decisions are counted apart from proxied traffic: their latency is not an upstream's. */
const TRAFFIC_PREFIX = 'authorizer:';

@injectable()
export class AuthorizerHandler {
  readonly #state: State;
  readonly #log: Logger;
  readonly #accessLog: AccessLogger;
  readonly #traffic: TrafficStats;
  readonly #trusted: TrustedProxies;
  readonly #unmatched: () => GatewayError;
  readonly #pathPrefix: string;

  constructor(state: State, traffic: TrafficStats, @inject(LOGGER) log: Logger, @inject(BOOT_CONFIG) config: BootConfig) {
    const settings = config.authorizer;
    if (!settings) throw new Error('the authorizer listener is not configured');
    this.#state = state;
    this.#traffic = traffic;
    this.#log = log.child({ component: 'authorizer' });
    this.#accessLog = createAccessLogger(log);
    this.#trusted = new TrustedProxies(settings.trustedProxies);
    this.#unmatched = settings.unmatched === 403 ? () => new ForbiddenError(NO_ROUTE) : () => new UnauthorizedError(NO_ROUTE);
    this.#pathPrefix = settings.pathPrefix;
  }

  /** `request` listener of the authorizer server. */
  readonly handleRequest = (req: IncomingMessage, res: ServerResponse): void => {
    // The body is never read: close the connection after answering rather than drain it.
    if (hasRequestBody(req)) res.shouldKeepAlive = false;
    const remote = stripMappedPrefix(req.socket.remoteAddress ?? '');
    const trusted = this.#trusted.trusts(remote);
    const original = this.#original(req, trusted);
    const ctx = original && !hasDuplicateHost(req) ? this.#createContext(req, original, remote, trusted) : null;
    if (!ctx) {
      if (original === null) this.#log.warn({ remote }, 'forwarding headers from an untrusted address refused; add the ingress to authorizer.trustedProxies');
      this.#answerError(res, null, new ForbiddenError(original === null ? UNTRUSTED : BAD_TARGET), remoteEntry(req, remote));
      return;
    }
    this.#decide(ctx, res).catch((error: unknown) => this.#answerError(res, ctx, error));
  };

  /** The original request, or null when forwarding headers came from an untrusted address. */
  #original(req: IncomingMessage, trusted: boolean): OriginalRequest | null {
    const h = req.headers;
    const nginx = h['x-original-uri'] !== undefined || h['x-original-method'] !== undefined || h['x-original-host'] !== undefined;
    const traefik = h['x-forwarded-uri'] !== undefined || h['x-forwarded-method'] !== undefined;
    if ((nginx || traefik) && !trusted) return null;
    const forwardedHost = trusted ? firstValue(h['x-forwarded-host']) : undefined;
    if (nginx) {
      return { method: single(h['x-original-method']) ?? req.method ?? 'GET', target: single(h['x-original-uri']) ?? '', host: single(h['x-original-host']) ?? forwardedHost ?? h.host };
    }
    if (traefik) {
      return { method: single(h['x-forwarded-method']) ?? req.method ?? 'GET', target: single(h['x-forwarded-uri']) ?? '', host: forwardedHost ?? h.host };
    }
    let target = req.url ?? '/';
    if (this.#pathPrefix !== '') {
      const rest = target.slice(this.#pathPrefix.length);
      // Outside the prefix: not an authorization request of this ingress; no route will match it.
      target = target.startsWith(this.#pathPrefix) && (rest === '' || rest[0] === '/' || rest[0] === '?') ? (rest[0] === '/' ? rest : `/${rest}`) : '';
    }
    return { method: req.method ?? 'GET', target, host: forwardedHost ?? h.host };
  }

  #createContext(req: IncomingMessage, original: OriginalRequest, remote: string, trusted: boolean): RequestContext | null {
    // Only origin-form targets: an absolute URI or `*` is nothing an ingress forwards.
    if (original.target[0] !== '/' || !/^[A-Z!#$%&'*+.^_`|~0-9-]{1,32}$/i.test(original.method)) return null;
    const target = parseRequestTarget(original.target);
    if (!target) return null;
    const headers = upstreamRequestHeaders(req.headers);
    const forwardedProto = trusted ? firstValue(req.headers['x-forwarded-proto']) : undefined;
    const scheme = forwardedProto === 'https' || forwardedProto === 'http' ? forwardedProto : 'http';
    const priorFor = req.headers['x-forwarded-for'];
    const clientIp = trusted && typeof priorFor === 'string' ? priorFor.split(',')[0]!.trim() : remote;
    let id = req.headers['x-request-id'];
    if (typeof id !== 'string' || id.length === 0 || id.length > 200) id = randomUUID();
    return new RequestContext({
      req, res: null, socket: null, id, method: original.method.toUpperCase(), host: normalizeHost(original.host),
      path: target.path, search: target.search, scheme, clientIp, upstreamHeaders: headers, log: this.#log,
    });
  }

  /** `ctx.res` is null, so a step that answers (`ctx.respond`) writes nothing: the decision is answered here. */
  async #decide(ctx: RequestContext, res: ServerResponse): Promise<void> {
    const route = routeRequest(this.#state.snapshot.routes, ctx);
    if (!route) throw this.#unmatched();
    if (!route.pipeline) throw new RouteMisconfiguredError();
    const before = { ...ctx.upstreamHeaders };
    await runRequestSteps(ctx, route.pipeline);
    // A step that answered the request itself (a CORS preflight): its 2xx lets the ingress serve
    // the request; anything else is a refusal like a thrown error.
    if (ctx.handled && (ctx.status < 200 || ctx.status > 299)) throw new ForbiddenError(`The route's plugins answered ${ctx.status}`);
    const head: Record<string, string> = { 'cache-control': 'no-store', ...ctx.responseHeaders, ...identityHeaders(ctx, before, route), 'x-request-id': ctx.id };
    sendJson(res, 200, { allowed: true }, head);
    ctx.status = 200;
    this.#record(ctx);
  }

  /**
   * A refusal or a fault. The plugin's own 401 or 403 is answered as it is; any other client error
   * (400 malformed path, 429 quota…) becomes a 403 with the same body, since an ingress passes on
   * only 401 and 403 (nginx answers 500 for anything else); a fault stays a 5xx.
   */
  #answerError(res: ServerResponse, ctx: RequestContext | null, error: unknown, entry?: AccessEntry): void {
    const gatewayError = toGatewayError(error);
    if (isServerFault(error)) this.#log.error({ err: error, requestId: ctx?.id }, 'authorization decision failed');
    else this.#log.debug({ requestId: ctx?.id, routeId: ctx?.route?.id, error: gatewayError.message }, 'request refused');
    const status = gatewayError.status === 401 || gatewayError.status >= 500 ? gatewayError.status : 403;
    if (!res.headersSent) sendJson(res, status, gatewayError.toJSON(), { 'cache-control': 'no-store', ...ctx?.responseHeaders, ...gatewayError.headers, 'x-request-id': ctx?.id ?? entry?.requestId ?? '' });
    if (ctx) {
      ctx.status = status;
      this.#record(ctx);
    } else if (entry) {
      entry.status = status;
      this.#accessLog(entry);
      this.#traffic.record({ ...entry, routeId: TRAFFIC_PREFIX + '(no route)' });
    }
  }

  #record(ctx: RequestContext): void {
    const entry: AccessEntry = {
      requestId: ctx.id, method: ctx.method, host: ctx.host, path: ctx.path, status: ctx.status,
      durationMs: Math.round((performance.now() - ctx.startedAt) * 100) / 100,
      routeId: ctx.route?.id ?? null, target: null, clientIp: ctx.clientIp, consumer: ctx.consumer, mode: 'authorizer',
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
function identityHeaders(ctx: RequestContext, before: Headers, route: CompiledRoute): Record<string, string> {
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
  if (identity.user && ctx.consumer !== null) out['x-auth-request-user'] = ctx.consumer;
  if (identity.emailHeader !== null) {
    const email = after[identity.emailHeader];
    if (typeof email === 'string') out['x-auth-request-email'] = email;
  }
  if (identity.accessToken) {
    const authorization = after.authorization;
    if (typeof authorization === 'string' && /^bearer /i.test(authorization)) out['x-auth-request-access-token'] = authorization.slice(7).trim();
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
    requestId: typeof id === 'string' && id.length > 0 && id.length <= 200 ? id : randomUUID(), method: req.method ?? 'GET',
    host: normalizeHost(req.headers.host), path: (req.url ?? '/').split('?')[0]!, status: 0, durationMs: 0,
    routeId: null, target: null, clientIp: remote, consumer: null, mode: 'authorizer',
  };
}
