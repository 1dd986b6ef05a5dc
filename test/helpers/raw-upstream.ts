/**
 * A misbehaving upstream for fault tests: a raw TCP server on loopback that reads a request head and
 * then does exactly what the test scripts on the socket (garbage, resets, stalls), with a count of
 * the connections still open so tests can prove none leaked.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { request as httpRequest } from 'node:http';

export interface RawUpstream {
  url: string;
  server: Server;
  /** Connections currently open to this upstream. */
  openConnections(): Promise<number>;
  close(): Promise<void>;
}

export async function startRawUpstream(onRequest: (socket: Socket, head: string) => void): Promise<RawUpstream> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      onRequest(socket, head);
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    openConnections: () =>
      new Promise((resolve, reject) =>
        server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
      ),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface Outcome {
  /** Status of the response head, when one arrived. */
  status?: number;
  body: string;
  /** The response ended normally (false: aborted after its head, or no response at all). */
  complete: boolean;
  /** The client-side error, when the connection failed or was aborted. */
  error?: string;
}

/** One request on a fresh connection, reporting how it ended rather than throwing. */
export function outcome(url: string, host: string, path = '/'): Promise<Outcome> {
  return new Promise((resolve) => {
    const target = new URL(url);
    const result: Outcome = { body: '', complete: false };
    const req = httpRequest(
      { host: target.hostname, port: target.port, path, headers: { host }, agent: false },
      (res) => {
        result.status = res.statusCode;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          result.body += chunk;
        });
        res.on('end', () => {
          result.complete = res.complete;
          resolve(result);
        });
        res.on('aborted', () => {
          result.error = 'aborted';
        });
        res.on('error', (error) => {
          result.error = error.message;
          resolve(result);
        });
        res.on('close', () => {
          if (!res.complete) {
            result.complete = false;
            result.error ??= 'closed';
          }
          resolve(result);
        });
      },
    );
    req.on('error', (error) => {
      result.error = error.message;
      resolve(result);
    });
    req.end();
  });
}

/** Poll `read` until it returns `expected` (fault tests wait for sockets to close, never on a clock). */
export async function eventually<T>(
  read: () => Promise<T> | T,
  expected: T,
  what: string,
  attempts = 200,
): Promise<void> {
  let last: T | undefined;
  for (let i = 0; i < attempts; i++) {
    last = await read();
    if (last === expected) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${what}: still ${String(last)} instead of ${String(expected)}`);
}
