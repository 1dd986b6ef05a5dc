/**
 * A proxied request: the served request that is also undici's handler of its own upstream call
 * (`Dispatcher.dispatch`, the callbacks undici calls natively). `pool.stream()` wraps the same
 * callbacks in an `AsyncResource`, a parsed header object the proxy then copied again without
 * hop-by-hop headers, a `finished()` watcher (six listeners on the response and its socket), a
 * `drain` listener and a callback per request; here the request costs this one object, the response
 * head one header object, and a `drain` listener only when the client reads slower than the upstream
 * sends.
 */
import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { ResponseHead } from '../plugin-runtime/context.js';
import { ServedRequest, type ServedRequestInit } from './served-request.js';
import { upstreamResponseHeaders } from './headers.js';

/** What the proxy does when the response is over or the upstream call failed before answering. */
export interface ProxyOutcomes {
  finish(request: ProxiedRequest): void;
  upstreamFailed(request: ProxiedRequest, error: Error): void;
}

export class ProxiedRequest extends ServedRequest implements Dispatcher.DispatchHandler {
  readonly outcomes: ProxyOutcomes;
  /** The balancer's pick, and the attempt in progress (a refused target moves to the next). */
  firstTarget = 0;
  attempt = 0;
  /** undici's abort of the call in progress, and its resume after back-pressure. */
  #abort: ((error?: Error) => void) | null = null;
  #resume: (() => void) | null = null;
  /** The response head was sent: from then on a failure can only cut the response short. */
  #responding = false;

  constructor(outcomes: ProxyOutcomes, init: ServedRequestInit) {
    super(init);
    this.outcomes = outcomes;
  }

  /** Abort the upstream call (the client went away). */
  abortUpstream(): void {
    if (this.aborted) return;
    this.aborted = true;
    const abort = this.#abort;
    this.#abort = null;
    abort?.();
  }

  onConnect(abort: (error?: Error) => void): void {
    // The client left before undici had a connection for the call: abort it at once.
    if (this.aborted) abort();
    else this.#abort = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    // 1xx answers are the upstream's business with the gateway (Node answers the client's own `Expect`).
    if (statusCode < 200) return true;
    this.upstreamRespondedAt = performance.now();
    const res = this.res!;
    const head: ResponseHead = { status: statusCode, headers: upstreamResponseHeaders(rawHeaders) };
    const steps = this.route!.pipeline!.transformResponse;
    for (let i = 0; i < steps.length; i++) steps[i]!(this, head);
    const extra = this.responseHeaders;
    if (extra !== null) for (const name in extra) head.headers[name] = extra[name];
    if (head.headers['x-request-id'] === undefined) head.headers['x-request-id'] = this.id;
    res.writeHead(head.status, head.headers);
    this.#responding = true;
    this.#resume = resume;
    return true;
  }

  onData(chunk: Buffer): boolean {
    const res = this.res!;
    if (res.write(chunk)) return true;
    // undici pauses until resumed: the listener exists only while the client reads slower.
    res.once('drain', this.#resume!);
    return false;
  }

  onComplete(): void {
    this.#abort = null;
    this.res!.end();
  }

  onError(error: Error): void {
    this.#abort = null;
    // Cut short after the head was sent: the client sees the connection end, as with any proxy.
    if (this.#responding) (this.res as ServerResponse).destroy(error);
    else this.outcomes.upstreamFailed(this, error);
  }
}
