/**
 * The proxy listener's request handler: sinks, route match, the route's compiled pipeline, then the
 * upstream call through undici's dispatcher, the request being its own handler (`proxied-request.ts`),
 * bodies streamed both ways. Upstream failures are answered with JSON (502 unreachable, 504 timeout);
 * a client that goes away aborts the upstream call.
 */
import { request as httpRequest, type IncomingMessage, type ServerResponse, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Duplex, Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { inject, injectable } from 'tsyringe';
import type { RequestContext } from '../plugin-runtime/context.js';
import { ServedRequest } from './served-request.js';
import {
  AuthorizerOnlyRouteError,
  BadGatewayError,
  BadRequestError,
  GatewayTimeoutError,
  MethodNotAllowedError,
  NoRouteError,
  RouteMisconfiguredError,
  UnsendableHeaderError,
} from '../errors.js';
import { unsendableHeader } from './header-values.js';
import { upstreamRequestHeaders } from './headers.js';
import { ProxiedRequest, type ProxyOutcomes } from './proxied-request.js';
import { hasDuplicateHost, hasRequestBody, isServerFault, sendError, sendErrorOnSocket } from './http-utils.js';
import { runRequestSteps, type Pipeline } from '../plugin-runtime/pipeline.js';
import { parseRequestTarget, normalizeHost } from '../config/request-path.js';
import { newRequestId } from './request-id.js';
import { PATH_PARAMETERS_REFUSED, routeRequest, type CompiledRoute } from '../compiler/router.js';
import { CompiledConfig } from '../compiler/snapshot.js';
import { BOOT_CONFIG, LOGGER } from '../tokens.js';
import type { BootConfig } from '../config/boot-config.js';
import { isConnectFailure, isTimeout, type UpstreamTarget } from '../compiler/upstream.js';
import { createAccessLogger, type AccessEntry, type AccessLogger } from './access-log.js';
import { TrafficStats } from './traffic.js';
import { TrustedProxies, firstValue, stripMappedPrefix } from './forwarding.js';
import { ProxyMetrics } from '../metrics/proxy-metrics.js';

const DUPLICATE_HOST = 'A request carries one Host header';

@injectable()
export class ProxyHandler implements ProxyOutcomes {
  readonly #compiled: CompiledConfig;
  readonly #log: Logger;
  readonly #accessLog: AccessLogger;
  readonly #traffic: TrafficStats;
  readonly #trusted: TrustedProxies;
  readonly #metrics: ProxyMetrics;

  constructor(
    compiled: CompiledConfig,
    traffic: TrafficStats,
    @inject(LOGGER) log: Logger,
    @inject(BOOT_CONFIG) config: BootConfig,
    metrics: ProxyMetrics,
  ) {
    this.#compiled = compiled;
    this.#metrics = metrics;
    this.#traffic = traffic;
    this.#log = log.child({ component: 'proxy' });
    this.#accessLog = createAccessLogger(log);
    this.#trusted = new TrustedProxies(config.proxy.trustedProxies);
    this.#healthPath = config.proxy.healthPath;
  }

  /** Set when the gateway starts shutting down: the health path answers 503 from then on. */
  draining = false;
  readonly #healthPath: string | undefined;

  /** `request` listener of the proxy server. */
  readonly handleRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (hasDuplicateHost(req)) {
      res.shouldKeepAlive = false;
      sendError(res, new BadRequestError(DUPLICATE_HOST));
      return;
    }
    // Compared as sent (no route, no normalization): a balancer asks for exactly what it was told.
    if (req.url === this.#healthPath && this.#healthPath !== undefined) {
      answerHealth(req, res, this.draining);
      return;
    }
    const ctx = this.#createContext(req, res, null);
    if (!ctx) {
      sendError(res, new BadRequestError('Malformed request target'));
      return;
    }
    (res as ResponseWithRequest)[PROXIED] = ctx;
    // 'close' is emitted once: `on` spares the wrapper `once` allocates per request.
    res.on('close', onResponseClose);
    try {
      this.#process(ctx);
    } catch (error) {
      this.fail(ctx, error);
    }
  };

  /** `upgrade` listener of the proxy server: WebSocket (and other upgrades) pass through. */
  readonly handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    if (hasDuplicateHost(req)) {
      sendErrorOnSocket(socket, new BadRequestError(DUPLICATE_HOST));
      return;
    }
    const ctx = this.#createContext(req, null, socket);
    if (!ctx) {
      sendErrorOnSocket(socket, new BadRequestError('Malformed request target'));
      return;
    }
    this.#processUpgrade(ctx, head).catch((error: unknown) => {
      this.#logFailure(ctx, error);
      sendErrorOnSocket(socket, error, ctx.responseHeaders);
      ctx.status = isTimeout(error) ? 504 : ((error as { status?: number }).status ?? 500);
      this.#logAccess(ctx);
    });
  };

  /**
   * Sinks, route, request steps, upstream: synchronous as far as the steps allow. Failures of an
   * asynchronous part reach `fail` through the one rejection handler; the upstream call reports
   * through the request's own `onError`, so a proxied request allocates no promise of its own.
   */
  #process(ctx: ProxiedRequest): void {
    const sinks = this.#compiled.snapshot.sinks;
    for (let i = 0; i < sinks.length; i++) {
      if (!sinks[i]!.matches(ctx)) continue;
      // The gateway's own endpoints belong to no route that could allow `;` parameters.
      if (ctx.pathParameters) throw new BadRequestError(PATH_PARAMETERS_REFUSED);
      const answered = sinks[i]!.handle(ctx);
      if (answered) answered.then(undefined, (error: unknown) => this.fail(ctx, error));
      return;
    }
    const pipeline = this.#route(ctx);
    // A route without request steps goes straight upstream.
    if (pipeline.preRoute.length + pipeline.validateAccess.length + pipeline.transformRequest.length === 0)
      return this.#forward(ctx);
    // Synchronous plugin steps (an API key, a cached token) cost no promise of their own.
    const pending = runRequestSteps(ctx, pipeline);
    if (pending)
      pending.then(
        () => this.#stepsDone(ctx),
        (error: unknown) => this.fail(ctx, error),
      );
    else if (!ctx.handled) this.#forward(ctx);
  }

  /** Match the route, set the upstream path; returns the route's pipeline. */
  #route(ctx: RequestContext): Pipeline {
    const route = routeRequest(this.#compiled.snapshot.routes, ctx);
    if (!route) throw new NoRouteError();
    if (route.authorizerOnly) throw new AuthorizerOnlyRouteError(route.id);
    if (!route.pipeline) throw new RouteMisconfiguredError();
    return route.pipeline;
  }

  /** Send the request to the route's next target (weighted round robin). */
  #forward(ctx: ProxiedRequest): void {
    ctx.firstTarget = ctx.route!.balancer.next();
    this.#attempt(ctx, 0);
  }

  #attempt(ctx: ProxiedRequest, attempt: number): void {
    const route = ctx.route!;
    const req = ctx.req;
    const targets = route.balancer.targets;
    const target = targets[(ctx.firstTarget + attempt) % targets.length]!;
    ctx.attempt = attempt;
    ctx.target = target.origin;
    if (route.rewriteHost) ctx.upstreamHeaders.host = target.host;
    const hasBody = hasRequestBody(req);
    ctx.upstreamAt = performance.now();
    target.pool.dispatch(
      {
        path: target.basePath + ctx.upstreamPath + ctx.search,
        method: ctx.method as Dispatcher.HttpMethod,
        headers: ctx.upstreamHeaders as Record<string, string | string[]>,
        // undici accepts async iterables as bodies; its types only list streams
        body: hasBody ? (targets.length > 1 ? (lazyBody(req) as unknown as Readable) : req) : null,
        headersTimeout: route.headersTimeout,
        bodyTimeout: route.bodyTimeout,
      },
      ctx,
    );
  }

  /** An upstream call failed: try the next target when the request never reached this one, else answer. */
  upstreamFailed(ctx: ProxiedRequest, error: Error): void {
    const route = ctx.route!;
    const header = unsendableHeader(error);
    if (header !== null) return this.fail(ctx, new UnsendableHeaderError(header).withCause(error));
    if (!ctx.aborted) this.#metrics.upstreamError(route, error);
    const targets = route.balancer.targets;
    const req = ctx.req;
    // A refused connection never reached the upstream: the next target may serve it, as long
    // as no byte of the request body has been consumed.
    if (isConnectFailure(error) && ctx.attempt + 1 < targets.length && (!hasRequestBody(req) || !req.readableDidRead)) {
      const target = targets[(ctx.firstTarget + ctx.attempt) % targets.length]!;
      this.#log.warn(
        { requestId: ctx.id, routeId: route.id, target: target.origin, code: (error as NodeJS.ErrnoException).code },
        'upstream target unreachable, trying the next one',
      );
      this.#attempt(ctx, ctx.attempt + 1);
      return;
    }
    this.fail(ctx, upstreamError(error));
  }

  /** The request steps that took a promise are done: go upstream unless one answered. */
  #stepsDone(ctx: ProxiedRequest): void {
    try {
      if (!ctx.handled) this.#forward(ctx);
    } catch (error) {
      this.fail(ctx, error);
    }
  }

  async #processUpgrade(ctx: ServedRequest, head: Buffer): Promise<void> {
    await runRequestSteps(ctx, this.#route(ctx));
    if (ctx.handled) return;
    const route = ctx.route!;
    const targets = route.balancer.targets;
    const first = route.balancer.next();
    for (let attempt = 0; ; attempt++) {
      const target = targets[(first + attempt) % targets.length]!;
      ctx.upstreamAt = performance.now();
      try {
        await this.#tunnel(ctx, route, target, head);
        return;
      } catch (error) {
        const header = unsendableHeader(error);
        if (header !== null) throw new UnsendableHeaderError(header).withCause(error);
        this.#metrics.upstreamError(route, error);
        if (isConnectFailure(error) && attempt + 1 < targets.length) continue;
        throw upstreamError(error);
      }
    }
  }

  /** Open the upgraded connection upstream and splice the two sockets together. */
  #tunnel(ctx: ServedRequest, route: CompiledRoute, target: UpstreamTarget, head: Buffer): Promise<void> {
    const client = ctx.socket!;
    ctx.target = target.origin;
    const url = new URL(target.origin);
    const headers: OutgoingHttpHeaders = {
      ...ctx.upstreamHeaders,
      connection: 'Upgrade',
      upgrade: ctx.req.headers.upgrade,
    };
    if (route.rewriteHost) headers.host = target.host;
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const upstreamReq = send({
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || (url.protocol === 'https:' ? 443 : 80),
        method: ctx.method,
        path: target.basePath + ctx.upstreamPath + ctx.search,
        headers,
        timeout: route.headersTimeout,
      });
      upstreamReq.once('timeout', () =>
        upstreamReq.destroy(Object.assign(new Error('upstream timeout'), { code: 'UND_ERR_HEADERS_TIMEOUT' })),
      );
      upstreamReq.once('error', reject);
      upstreamReq.once('upgrade', (upstreamRes: IncomingMessage, upstreamSocket: Duplex, upstreamHead: Buffer) => {
        upstreamReq.off('error', reject);
        upstreamReq.setTimeout(0);
        client.write(rawHead(upstreamRes, ctx.responseHeaders));
        if (upstreamHead.length > 0) client.write(upstreamHead);
        if (head.length > 0) upstreamSocket.write(head);
        upstreamSocket.on('error', () => client.destroy());
        client.on('error', () => upstreamSocket.destroy());
        upstreamSocket.once('close', () => client.destroy());
        client.once('close', () => upstreamSocket.destroy());
        upstreamSocket.pipe(client);
        client.pipe(upstreamSocket);
        ctx.upstreamRespondedAt = performance.now();
        ctx.status = 101;
        this.#logAccess(ctx);
        resolve();
      });
      upstreamReq.once('response', (upstreamRes: IncomingMessage) => {
        // The upstream declined the upgrade: relay its answer as is.
        upstreamReq.off('error', reject);
        ctx.upstreamRespondedAt = performance.now();
        ctx.status = upstreamRes.statusCode ?? 502;
        client.write(rawHead(upstreamRes, ctx.responseHeaders, true));
        upstreamRes.pipe(client);
        upstreamRes.once('end', () => client.end());
        this.#logAccess(ctx);
        resolve();
      });
      upstreamReq.end();
    });
  }

  #createContext(req: IncomingMessage, res: ServerResponse | null, socket: Duplex | null): ProxiedRequest | null {
    const target = parseRequestTarget(req.url ?? '/');
    if (!target) return null;
    const headers = upstreamRequestHeaders(req.headers);
    const remote = stripMappedPrefix(req.socket.remoteAddress ?? '');
    const trusted = this.#trusted.trusts(remote);
    const ownScheme = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
    const forwardedProto = trusted ? firstValue(req.headers['x-forwarded-proto']) : undefined;
    const scheme = forwardedProto === 'https' || forwardedProto === 'http' ? forwardedProto : ownScheme;
    const priorFor = req.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = priorFor ? `${priorFor}, ${remote}` : remote;
    headers['x-forwarded-proto'] = scheme;
    headers['x-forwarded-host'] =
      (trusted ? firstValue(req.headers['x-forwarded-host']) : undefined) ?? req.headers.host ?? '';
    let id = req.headers['x-request-id'];
    if (typeof id !== 'string' || id.length === 0 || id.length > 200) id = newRequestId();
    headers['x-request-id'] = id;
    const clientIp = trusted && typeof priorFor === 'string' ? this.#trusted.clientBehind(priorFor, remote) : remote;
    return new ProxiedRequest(this, {
      req,
      res,
      socket,
      id,
      method: req.method ?? 'GET',
      headers: req.headers,
      host: normalizeHost(req.headers.host),
      path: target.path,
      search: target.search,
      pathParameters: target.pathParameters,
      scheme,
      clientIp,
      upstreamHeaders: headers,
      log: this.#log,
    });
  }

  /** Answer a failed request (the client is still there): log it, send the error. */
  fail(ctx: ServedRequest, error: unknown): void {
    const res = ctx.res!;
    if (res.destroyed || ctx.aborted) return; // the client left: not an upstream failure, nothing to answer
    this.#logFailure(ctx, error);
    sendError(res, error, ctx.responseHeaders);
  }

  #logFailure(ctx: ServedRequest, error: unknown): void {
    if (error instanceof BadGatewayError || error instanceof GatewayTimeoutError) {
      this.#log.warn(
        {
          requestId: ctx.id,
          routeId: ctx.route?.id,
          target: ctx.target,
          reason: (error.cause as Error | undefined)?.message,
        },
        error.message,
      );
    } else if (isServerFault(error)) {
      this.#log.error({ err: error, requestId: ctx.id, routeId: ctx.route?.id }, 'request failed');
    } else {
      this.#log.debug(
        { requestId: ctx.id, routeId: ctx.route?.id, error: (error as Error).message },
        'request refused',
      );
    }
  }

  /** The response is over (sent, failed or the client left): abort the upstream if needed, log, run `after`. */
  finish(ctx: ProxiedRequest): void {
    const res = ctx.res!;
    if (!res.writableFinished) ctx.abortUpstream();
    ctx.status = res.writableFinished ? res.statusCode : 499;
    this.#logAccess(ctx);
    const after = ctx.route?.pipeline?.after;
    if (after) {
      for (const step of after) {
        try {
          step(ctx);
        } catch (error) {
          this.#log.error({ err: error, requestId: ctx.id }, 'an after step failed');
        }
      }
    }
  }

  #logAccess(ctx: ServedRequest): void {
    const elapsedMs = performance.now() - ctx.startedAt;
    this.#metrics.record(ctx, elapsedMs / 1000);
    const entry: AccessEntry = {
      requestId: ctx.id,
      method: ctx.method,
      host: ctx.host,
      path: ctx.path,
      status: ctx.status,
      durationMs: Math.round(elapsedMs * 100) / 100,
      routeId: ctx.route?.id ?? null,
      target: ctx.target,
      clientIp: ctx.clientIp,
      consumer: ctx.consumer,
    };
    this.#accessLog(entry);
    this.#traffic.record(entry, !ctx.route && ctx.decidedBy !== null);
  }
}

/** One shared `close` listener for every response (no closure per request). */
function onResponseClose(this: ResponseWithRequest): void {
  const request = this[PROXIED]!;
  request.outcomes.finish(request);
}

const PROXIED = Symbol('portcullis.proxied-request');
type ResponseWithRequest = ServerResponse & { [PROXIED]?: ProxiedRequest };

/**
 * The request body as an iterable that reads nothing until undici starts sending. undici destroys a
 * stream body when the connection fails; this wrapper leaves `req` untouched then, so the next
 * target can still receive the whole body.
 */
async function* lazyBody(req: IncomingMessage): AsyncGenerator<Buffer> {
  for await (const chunk of req) yield chunk as Buffer;
}

function upstreamError(error: unknown): Error {
  if ((error as { name?: string }).name === 'AbortError' || (error as { code?: string }).code === 'UND_ERR_ABORTED')
    return error as Error;
  if (isTimeout(error)) return new GatewayTimeoutError(undefined).withCause(error);
  return new BadGatewayError().withCause(error);
}

function rawHead(res: IncomingMessage, extra: Record<string, string> | null, closing = false): string {
  let head = `HTTP/1.1 ${res.statusCode} ${res.statusMessage ?? ''}\r\n`;
  const raw = res.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (closing && /^(connection|keep-alive|transfer-encoding)$/i.test(raw[i]!)) continue;
    head += `${raw[i]}: ${raw[i + 1]}\r\n`;
  }
  if (extra) for (const [name, value] of Object.entries(extra)) head += `${name}: ${value}\r\n`;
  if (closing) head += 'connection: close\r\n';
  return head + '\r\n';
}

/** The load balancer's health answer to GET or HEAD, never cached; 503 while draining. */
function answerHealth(req: IncomingMessage, res: ServerResponse, draining: boolean): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendError(res, new MethodNotAllowedError(['GET', 'HEAD']));
    return;
  }
  const body = draining ? '{"status":"draining"}' : '{"status":"ok"}';
  if (draining) res.shouldKeepAlive = false;
  res.writeHead(draining ? 503 : 200, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(body),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
