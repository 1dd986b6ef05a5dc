/**
 * A request served on a `node:http` listener: the plugin-facing `RequestContext` plus what only the
 * core handles, the node objects (request, response or upgraded socket) and the bookkeeping of the
 * proxy (timings, whether the upstream call was aborted, the target that served it). Plugins see none of
 * it; the proxy, the authorizer and the request tester each make one object per request.
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { RequestContext, type RequestInit } from '../plugin-runtime/context.js';
import { readBody } from './http-utils.js';

export interface ServedRequestInit extends RequestInit {
  req: IncomingMessage;
  /** Null on the authorizer and in the request tester (nothing to write to), and for upgrades. */
  res: ServerResponse | null;
  /** The client's socket of a WebSocket (or other) upgrade, which answers on it. */
  socket: Duplex | null;
}

export class ServedRequest extends RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse | null;
  readonly socket: Duplex | null;
  readonly startedAt: number;
  /** The upstream target that served the request. */
  target: string | null = null;
  /** `performance.now()` when the upstream call was made (0: never), and when its response head arrived. */
  upstreamAt = 0;
  upstreamRespondedAt = 0;
  /** Whether the upstream call was aborted because the client went away. */
  aborted = false;

  constructor(init: ServedRequestInit) {
    super(init);
    this.startedAt = performance.now();
    this.req = init.req;
    this.res = init.res;
    this.socket = init.socket;
  }

  override get secureConnection(): boolean {
    return (this.req.socket as { encrypted?: boolean } | null)?.encrypted === true;
  }

  override readBody(limit: number): Promise<Buffer> {
    return readBody(this.req, limit);
  }

  override discardBody(): void {
    this.req.resume();
  }

  protected override sendAnswer(status: number, head: Record<string, string | number>, payload: string | Buffer): void {
    if (this.res) {
      this.res.writeHead(status, head);
      this.res.end(payload);
    } else if (this.socket) {
      let lines = '';
      for (const name in head) lines += `${name}: ${head[name]}\r\n`;
      this.socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${lines}connection: close\r\n\r\n${payload.toString()}`,
      );
    }
  }
}
