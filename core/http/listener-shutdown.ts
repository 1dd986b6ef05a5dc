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
interface HttpSocket extends Socket {
  _httpMessage?: (ServerResponse & { _last?: boolean }) | null;
}

export class ListenerShutdown {
  readonly server: Server;
  /** Every accepted TCP connection (for HTTPS, handshakes in progress too): what the grace's end drops. */
  readonly #connections = new Set<Socket>();
  /** The sockets the HTTP parser reads (for HTTPS, the TLS sockets): where a response is in progress. */
  readonly #httpSockets: Set<HttpSocket>;

  /** `tls`: the listener is HTTPS, whose HTTP parser gets the TLS socket on `secureConnection`. */
  constructor(server: Server, tls = false) {
    this.server = server;
    this.#httpSockets = tls ? new Set() : this.#connections;
    // Per connection, not per request: the hot path pays nothing.
    track(server, 'connection', this.#connections);
    if (tls) track(server, 'secureConnection', this.#httpSockets);
  }

  /** Open connections, upgraded ones included. */
  get connections(): number {
    return this.#connections.size;
  }

  /**
   * Stop accepting; close idle connections at once and busy ones right after their response, which
   * says `Connection: close`. Resolves when every connection has closed (upgraded ones included).
   */
  close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // A request that arrives from now on (pipelined behind one in progress) ends its connection too.
    this.server.prependListener('request', closeAfterResponse);
    for (const socket of this.#httpSockets) {
      const response = socket._httpMessage;
      if (response && !response.writableFinished) closeAfterResponse(null, response);
    }
    this.server.closeIdleConnections();
    return closed;
  }

  /** The grace is over: drop every connection still open, upgraded ones included. */
  destroyAll(): void {
    this.server.closeAllConnections();
    for (const socket of this.#connections) socket.destroy();
  }
}

function track(server: Server, event: 'connection' | 'secureConnection', sockets: Set<Socket>): void {
  server.on(event, (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
}

function closeAfterResponse(_request: unknown, response: ServerResponse & { _last?: boolean }): void {
  // Before the head is written Node sends `Connection: close` and ends the connection after the
  // response; once it is written, `_last` still ends the connection when the response finishes.
  if (!response.headersSent) response.shouldKeepAlive = false;
  else response._last = true;
}
