/**
 * A real upstream HTTP server on loopback (port 0) for tests: by default it echoes what it
 * received (method, url, headers, body size) as JSON, and records every request.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  bodyBytes: number;
  body: string;
}

export interface Upstream {
  server: Server;
  url: string;
  port: number;
  received: Received[];
  close(): Promise<void>;
}

export type UpstreamHandler = (req: IncomingMessage, res: ServerResponse, received: Received) => void;

/** Reply with the echo of the request. */
export const echo: UpstreamHandler = (_req, res, received) => {
  const payload = JSON.stringify(received);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
};

/** Start an upstream; `handler` is called once the request body was read (unless `streaming`). */
export async function startUpstream(
  handler: UpstreamHandler = echo,
  options: { streaming?: boolean; name?: string } = {},
): Promise<Upstream> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const entry: Received = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      bodyBytes: 0,
      body: '',
    };
    received.push(entry);
    if (options.name) res.setHeader('x-upstream', options.name);
    if (options.streaming) return handler(req, res, entry);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      entry.bodyBytes += c.length;
      if (entry.bodyBytes <= 1_000_000) chunks.push(c);
    });
    req.on('end', () => {
      entry.body = Buffer.concat(chunks).toString('utf8');
      handler(req, res, entry);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nobody listens on (bound then released). */
export async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
