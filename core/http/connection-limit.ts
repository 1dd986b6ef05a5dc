/**
 * A cap on concurrent client connections per listener. Node's own `server.maxConnections` drops an
 * extra connection without a word; here it gets a 503 JSON answer with Retry-After and is closed, so
 * a client (or a load balancer in front) can tell a full gateway from a dead one.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { ServiceBusyError } from '../errors.js';
import { sendErrorOnSocket } from './http-utils.js';

const REFUSED_LINGER_MS = 5_000;

/**
 * Admit at most `max` connections to `server` at once. `event` is the event on which Node hands the
 * connection to its HTTP parser: `connection` for HTTP, `secureConnection` for HTTPS (so the refusal
 * is written inside TLS).
 */
export function limitConnections(
  server: Server,
  max: number,
  event: 'connection' | 'secureConnection' = 'connection',
): void {
  // Node's HTTP server parses a connection from its own listener for this event; it runs only for
  // the connections admitted here, so a refused one never reaches a request handler.
  const nodeListeners = server.listeners(event) as Array<(socket: Socket) => void>;
  for (const listener of nodeListeners) server.removeListener(event, listener);
  let open = 0;
  server.on(event, (socket: Socket) => {
    if (open >= max) {
      socket.on('error', () => socket.destroy());
      // Discard what the client sends (no parser reads it) so its end is seen and the socket
      // closes cleanly, without a reset that could lose the answer; a client that never ends it
      // is dropped after a while.
      socket.resume();
      socket.setTimeout(REFUSED_LINGER_MS, () => socket.destroy());
      sendErrorOnSocket(
        socket,
        new ServiceBusyError(`The gateway is serving its maximum of ${max} connections; try again shortly`),
      );
      return;
    }
    open++;
    socket.once('close', () => open--);
    for (const listener of nodeListeners) listener.call(server, socket);
  });
}
