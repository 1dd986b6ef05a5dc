/**
 * The orderly close of one listener. Node's `server.close()` stops accepting and its
 * `closeIdleConnections()` drops the connections idle at that instant, but a keep-alive connection
 * busy then stays open after its response (until the keep-alive timeout), so a stop waited for the
 * whole grace; and the answer on it still said `keep-alive`, inviting a balancer to reuse a
 * connection about to go. Here every response sent once the listener closes carries
 * `Connection: close` and its connection closes right after it; upgraded connections (WebSockets)
 * are closed when the grace ends.
 */
import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Node's response in progress on a connection (internal, stable since Node 0.x). */
interface HttpSocket extends Socket { _httpMessage?: (ServerResponse & { _last?: boolean }) | null }

export class ListenerShutdown {
  readonly server: Server;
  readonly #sockets = new Set<HttpSocket>();

  /**
   * `event` is the one on which the HTTP parser gets its socket: `connection` for HTTP,
   * `secureConnection` for HTTPS (the TLS socket, which carries the response in progress).
   */
  constructor(server: Server, event: 'connection' | 'secureConnection' = 'connection') {
    this.server = server;
    // Per connection, not per request: the hot path pays nothing.
    server.on(event, (socket: HttpSocket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  /** Open connections, upgraded ones included. */
  get connections(): number {
    return this.#sockets.size;
  }

  /**
   * Stop accepting; close idle connections at once and busy ones right after their response, which
   * says `Connection: close`. Resolves when every connection has closed (upgraded ones included).
   */
  close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // A request that arrives from now on (pipelined behind one in progress) ends its connection too.
    this.server.prependListener('request', closeAfterResponse);
    for (const socket of this.#sockets) {
      const response = socket._httpMessage;
      if (response && !response.writableFinished) closeAfterResponse(null, response);
    }
    this.server.closeIdleConnections();
    return closed;
  }

  /** The grace is over: drop every connection still open, upgraded ones included. */
  destroyAll(): void {
    this.server.closeAllConnections();
    for (const socket of this.#sockets) socket.destroy();
  }
}

function closeAfterResponse(_request: unknown, response: ServerResponse & { _last?: boolean }): void {
  // Before the head is written Node sends `Connection: close` and ends the connection after the
  // response; once it is written, `_last` still ends the connection when the response finishes.
  if (!response.headersSent) response.shouldKeepAlive = false;
  else response._last = true;
}
