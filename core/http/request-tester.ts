/**
 * The request tester: runs a request composed in the back office through one route's real compiled
 * pipeline (the global sinks first, then preRoute, validateAccess, transformRequest) and records a
 * trace of what each step decided and how long it took, the request as the upstream would get it
 * (credentials masked) and, only when asked, the upstream's answer.
 *
 * No trace cost on proxied traffic: this module walks the same step arrays the proxy walks, with
 * its own loop (`traceSteps`); `runSteps` in pipeline.ts is untouched and never tests for a
 * recorder. Like the authorizer listener, the context has no client response or socket: a step
 * that answers is captured by `TracedContext.respond`, nothing is written anywhere.
 *
 * Reachable only from the admin API (`POST /api/routes/:id/test`, request-tester-admin.ts).
 */
import { IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import type { ResponseHead } from '../plugin-runtime/context.js';
import { ServedRequest } from './served-request.js';
import { PATH_PARAMETERS_REFUSED, refuseUnallowedPathParameters, type CompiledRoute } from '../compiler/router.js';
import type { RequestSteps, CompiledSink } from '../plugin-runtime/pipeline.js';
import type { Snapshot } from '../compiler/snapshot.js';
import { BadRequestError, GatewayError, RouteMisconfiguredError } from '../errors.js';
import { stripResponseHopByHop, upstreamRequestHeaders } from './headers.js';
import { isTimeout } from '../compiler/upstream.js';
import { normalizeHost, parseRequestTarget, routeDomain, splitDomain } from '../config/request-path.js';

/** What the admin composed. */
export interface TestRequest {
  method: string;
  /** The path as a client sends it to the gateway (the route's domain prefix included), query allowed. */
  path: string;
  /** Extra query parameters, added to any in `path`. */
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string;
  /** Host the request is sent to; defaults to the host of the route's first domain. */
  host?: string;
  /** Really send the request upstream (otherwise the trace stops at "not sent"). */
  send?: boolean;
}

export type Decision = 'allowed' | 'denied' | 'answered' | 'failed';

export interface TraceStep {
  phase: 'sink' | 'preRoute' | 'validateAccess' | 'transformRequest' | 'transformResponse';
  plugin: string;
  decision: Decision;
  status?: number;
  error?: string;
  message?: string;
  /** Time the step took, in microseconds (async work included). */
  durationUs: number;
}

export interface Trace {
  route: string;
  /** The route the proxy's router picks for this host, path, method and headers (null: none); may differ from `route`. */
  routedTo: string | null;
  request: { method: string; host: string; path: string; search: string; headers: Record<string, string> };
  steps: TraceStep[];
  /** How the pipeline ended: forwarded (`allowed`), refused (`denied`, `failed`) or answered by a plugin. */
  outcome: { decision: Decision; plugin: string | null; status?: number; error?: string; message?: string };
  /** What a plugin answered itself (CORS preflight, token endpoint), when one did. */
  answer: { status: number; headers: Record<string, string>; body: string } | null;
  /** The request as it would reach the upstream; null when the pipeline did not forward it. */
  upstreamRequest: { method: string; url: string; headers: Record<string, string> } | null;
  upstream:
    | { sent: false; reason: string }
    | {
        sent: true;
        status: number;
        headers: Record<string, string>;
        body: string;
        truncated: boolean;
        durationUs: number;
      }
    | { sent: true; error: string; message: string; status: number };
  durationUs: number;
}

/** How much of the upstream's body the trace keeps. */
export const UPSTREAM_BODY_LIMIT = 16 * 1024;
const MASK = '****';
/** Headers that carry credentials whatever the route's plugins; plugins name others with `ctx.credentialHeaders`. */
const CREDENTIAL_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'api-key',
  'apikey',
]);
const CREDENTIAL_NAME = /(?:api[-_]?key|secret|password|token|session)/i;

/** A context whose `respond` keeps the answer for the trace (there is no client to write to). */
class TracedContext extends ServedRequest {
  answer: { status: number; headers: Record<string, string>; body: string } | null = null;

  override respond(status: number, body?: unknown, headers?: Record<string, string>): void {
    super.respond(status, body, headers);
    const text =
      body === undefined
        ? ''
        : typeof body === 'string'
          ? body
          : Buffer.isBuffer(body)
            ? body.toString('utf8')
            : JSON.stringify(body);
    this.answer = {
      status,
      headers: { ...this.responseHeaders, ...headers },
      body: text.slice(0, UPSTREAM_BODY_LIMIT),
    };
  }
}

/** Run `input` through `route`'s pipeline (and the global sinks) with a trace; send upstream only with `input.send`. */
export async function traceRequest(
  snapshot: Snapshot,
  route: CompiledRoute,
  input: TestRequest,
  log: Logger,
): Promise<Trace> {
  const started = performance.now();
  const ctx = createContext(route, input, log);
  const routedTo = snapshot.routes.match(ctx.host, ctx.path, ctx.method, ctx.headers, ctx.search)?.route.id ?? null;
  const request = {
    method: ctx.method,
    host: ctx.host,
    path: ctx.path,
    search: ctx.search,
    headers: masked(ctx.upstreamHeaders, ctx),
  };
  const steps: TraceStep[] = [];
  const trace = (
    outcome: Trace['outcome'],
    upstreamRequest: Trace['upstreamRequest'] = null,
    upstream: Trace['upstream'] = { sent: false, reason: notSentReason(outcome) },
  ): Trace => ({
    route: route.id,
    routedTo,
    request,
    steps,
    outcome,
    answer: ctx.answer,
    upstreamRequest,
    upstream,
    durationUs: micros(started),
  });

  // Sinks decide before routing, on the full path: the one that matches answers instead of the route.
  const sinks = snapshot.sinks as readonly CompiledSink[];
  for (const sink of sinks) {
    if (!sink.matches(ctx)) continue;
    if (ctx.pathParameters) throw new BadRequestError(PATH_PARAMETERS_REFUSED); // as the proxy: sinks take none
    const outcome = await traceStep(steps, 'sink', sink.plugin, ctx, () => sink.handle(ctx));
    return trace(outcome ?? { decision: 'answered', plugin: sink.plugin, status: ctx.status });
  }
  // What routeRequest checks and sets, for this route whatever the router would pick.
  refuseUnallowedPathParameters(ctx, route);
  ctx.route = route;
  ctx.routePrefix = routePrefix(route, ctx.path);
  if (route.stripPath && ctx.routePrefix !== '') ctx.upstreamPath = ctx.path.slice(ctx.routePrefix.length) || '/';
  ctx.routePath = ctx.upstreamPath;
  const pipeline = route.pipeline;
  if (!pipeline) {
    const error = new RouteMisconfiguredError();
    return trace({ decision: 'failed', plugin: null, status: error.status, error: error.code, message: error.message });
  }
  if (route.authorizerOnly)
    return trace({ decision: 'allowed', plugin: null }, null, {
      sent: false,
      reason: 'The route is in authorizer mode: it has no upstream',
    });
  for (const phase of ['preRoute', 'validateAccess', 'transformRequest'] as const) {
    const outcome = await traceSteps(pipeline[phase], phase, ctx, steps);
    if (outcome) return trace(outcome);
  }

  const target = route.balancer.targets[0]!;
  const headers = { ...ctx.upstreamHeaders };
  if (route.rewriteHost) headers.host = target.host;
  const path = target.basePath + ctx.upstreamPath + ctx.search;
  const upstreamRequest = { method: ctx.method, url: target.origin + path, headers: masked(headers, ctx) };
  if (!input.send)
    return trace({ decision: 'allowed', plugin: null }, upstreamRequest, {
      sent: false,
      reason: 'Dry run: the request was not sent (send: true sends it)',
    });
  const upstream = await sendUpstream(route, target.pool, path, ctx, headers, input.body, steps);
  return trace({ decision: 'allowed', plugin: null }, upstreamRequest, upstream);
}

/** Walk one phase's steps like `runSteps`, timing each and stopping at the first that denies or answers. */
async function traceSteps(
  phaseSteps: RequestSteps,
  phase: TraceStep['phase'],
  ctx: TracedContext,
  steps: TraceStep[],
): Promise<Trace['outcome'] | null> {
  for (let i = 0; i < phaseSteps.length; i++) {
    const outcome = await traceStep(steps, phase, phaseSteps.owners[i] ?? '?', ctx, () => phaseSteps[i]!(ctx));
    if (outcome) return outcome;
  }
  return null;
}

async function traceStep(
  steps: TraceStep[],
  phase: TraceStep['phase'],
  plugin: string,
  ctx: TracedContext,
  run: () => unknown,
): Promise<Trace['outcome'] | null> {
  const started = performance.now();
  try {
    await run();
  } catch (error) {
    const known = error instanceof GatewayError;
    if (!known) ctx.log.error({ err: error, plugin }, 'a step failed in the request tester');
    const status = known ? error.status : 500;
    const code = known ? error.code : 'server_error';
    // An unexposed fault keeps its details in the log, as on the proxy.
    const message = known ? error.message : 'The step failed; see the gateway logs';
    const decision: Decision = status >= 500 ? 'failed' : 'denied';
    steps.push({ phase, plugin, decision, status, error: code, message, durationUs: micros(started) });
    return { decision, plugin, status, error: code, message };
  }
  if (ctx.handled) {
    steps.push({ phase, plugin, decision: 'answered', status: ctx.status, durationUs: micros(started) });
    return { decision: 'answered', plugin, status: ctx.status };
  }
  steps.push({ phase, plugin, decision: 'allowed', durationUs: micros(started) });
  return null;
}

async function sendUpstream(
  route: CompiledRoute,
  pool: Dispatcher,
  path: string,
  ctx: TracedContext,
  headers: Record<string, string | string[] | undefined>,
  body: string | undefined,
  steps: TraceStep[],
): Promise<Trace['upstream']> {
  const started = performance.now();
  let response: Dispatcher.ResponseData;
  try {
    const hasBody = body !== undefined && body !== '';
    const sent = { ...headers } as Record<string, string | string[]>;
    // The composed body replaces whatever length the client headers claimed.
    delete sent['content-length'];
    delete sent['transfer-encoding'];
    response = await pool.request({
      path,
      method: ctx.method as Dispatcher.HttpMethod,
      headers: sent,
      body: hasBody ? body : null,
      headersTimeout: route.headersTimeout,
      bodyTimeout: route.bodyTimeout,
    });
  } catch (error) {
    const timeout = isTimeout(error);
    return {
      sent: true,
      status: timeout ? 504 : 502,
      error: timeout ? 'gateway_timeout' : 'bad_gateway',
      message: (error as Error).message,
    };
  }
  const head: ResponseHead = {
    status: response.statusCode,
    headers: stripResponseHopByHop(response.headers as OutgoingHttpHeaders),
  };
  const responseSteps = route.pipeline!.transformResponse;
  for (let i = 0; i < responseSteps.length; i++) {
    const stepStarted = performance.now();
    responseSteps[i]!(ctx, head);
    steps.push({
      phase: 'transformResponse',
      plugin: '(response step)',
      decision: 'allowed',
      durationUs: micros(stepStarted),
    });
  }
  if (ctx.responseHeaders) Object.assign(head.headers, ctx.responseHeaders);
  const { text, truncated } = await readPrefix(response.body, UPSTREAM_BODY_LIMIT);
  const outHeaders: Record<string, string | string[] | undefined> = {};
  for (const name in head.headers) {
    const value = head.headers[name];
    outHeaders[name] = typeof value === 'number' ? String(value) : value;
  }
  return {
    sent: true,
    status: head.status,
    headers: masked(outHeaders, ctx),
    body: text,
    truncated,
    durationUs: micros(started),
  };
}

/** The first `limit` bytes of a body; the rest is dropped (the connection is then closed). */
async function readPrefix(
  body: Dispatcher.ResponseData['body'],
  limit: number,
): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    chunks.push(buffer);
    size += buffer.length;
    if (size > limit) {
      body.destroy();
      return { text: Buffer.concat(chunks).subarray(0, limit).toString('utf8'), truncated: true };
    }
  }
  return { text: Buffer.concat(chunks).toString('utf8'), truncated: false };
}

function createContext(route: CompiledRoute, input: TestRequest, log: Logger): TracedContext {
  const params = new URLSearchParams(input.query ?? {}).toString();
  const raw = input.path + (params === '' ? '' : (input.path.includes('?') ? '&' : '?') + params);
  const target = raw.startsWith('/') ? parseRequestTarget(raw) : null;
  if (!target) throw new BadRequestError('path must be an origin-form path ("/…") without malformed segments');
  const host = normalizeHost(input.host ?? defaultHost(route));
  const incoming: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.headers ?? {})) incoming[name.toLowerCase()] = value;
  incoming.host = host;
  const body = input.body ?? '';
  if (body !== '' && incoming['content-length'] === undefined)
    incoming['content-length'] = String(Buffer.byteLength(body));
  // A request without a client socket, as plugins that read the body (form posts) expect to find it.
  const req = new IncomingMessage(new Socket());
  req.method = input.method;
  req.url = raw;
  req.headers = incoming;
  req.rawHeaders = Object.entries(incoming).flat();
  req.push(body === '' ? null : Buffer.from(body));
  if (body !== '') req.push(null);
  const id = randomUUID();
  const headers = upstreamRequestHeaders(incoming);
  headers['x-forwarded-for'] = '127.0.0.1';
  headers['x-forwarded-proto'] = 'http';
  headers['x-forwarded-host'] = host;
  headers['x-request-id'] = id;
  return new TracedContext({
    req,
    res: null,
    socket: null,
    id,
    method: input.method,
    headers: incoming,
    host,
    path: target.path,
    search: target.search,
    pathParameters: target.pathParameters,
    scheme: 'http',
    clientIp: '127.0.0.1',
    upstreamHeaders: headers,
    log: log.child({ component: 'request-tester', routeId: route.id }),
  });
}

/** The host of the route's first domain; a wildcard gets a concrete label (`*.example.com` → `test.example.com`). */
function defaultHost(route: CompiledRoute): string {
  const domain = route.route.frontend.domains[0] ?? '*';
  const { host } = splitDomain(domain);
  if (host === '*') return 'localhost';
  return host.startsWith('*.') ? `test${host.slice(1)}` : host;
}

/** The longest domain prefix of the route that `path` falls under ('' when none). */
function routePrefix(route: CompiledRoute, path: string): string {
  let best = '';
  for (const domain of route.route.frontend.domains) {
    const { prefix } = routeDomain(domain);
    const caseSensitive = route.route.frontend.caseSensitive !== false;
    const head = caseSensitive ? path : path.toLowerCase();
    const wanted = caseSensitive ? prefix : prefix.toLowerCase();
    const under = head === wanted || head.startsWith(wanted + '/');
    if (under && prefix.length > best.length) best = path.slice(0, prefix.length);
  }
  return best;
}

/** Header values as strings, credentials masked (the scheme of an Authorization value kept). */
function masked(headers: Record<string, string | string[] | undefined>, ctx: ServedRequest): Record<string, string> {
  const marked = ctx.credentialHeaders;
  const out: Record<string, string> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(', ') : value;
    const lower = name.toLowerCase();
    if (CREDENTIAL_HEADERS.has(lower) || CREDENTIAL_NAME.test(lower) || (marked !== null && marked.includes(lower))) {
      const scheme = /^(basic|bearer|digest|dpop|negotiate) /i.exec(text);
      out[name] = scheme ? `${scheme[1]} ${MASK}` : MASK;
    } else {
      out[name] = text;
    }
  }
  return out;
}

function notSentReason(outcome: Trace['outcome']): string {
  if (outcome.decision === 'answered') return `Not sent: ${outcome.plugin ?? 'a plugin'} answered the request itself`;
  return `Not sent: ${outcome.plugin ?? 'the gateway'} refused the request`;
}

function micros(since: number): number {
  return Math.round((performance.now() - since) * 1000);
}
