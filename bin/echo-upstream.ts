#!/usr/bin/env node
/**
 * A small upstream to try the gateway with, shipped so the guides need nothing else:
 * `node dist/bin/echo-upstream.js --port 3101`. It answers any method and path with JSON describing
 * the request it received (method, path, query, headers, body), the way httpbin does for `/get`,
 * `/post`, `/headers` and `/anything/…`; `/status/<code>` answers that status. With `--tls-cert` and
 * `--tls-key` it serves HTTPS, and with `--tls-ca` it also requires a client certificate signed by
 * that CA (the mutual-TLS guide), naming the client certificate's subject in its answer.
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

/** How the echo upstream listens. */
export interface EchoUpstreamOptions {
  port: number;
  host?: string;
  /** PEM server certificate and key: serve HTTPS. */
  tlsCert?: string;
  tlsKey?: string;
  /** PEM CA: require a client certificate it signs. */
  tlsCa?: string;
}

/** The JSON an echo answer carries. */
export interface EchoAnswer {
  method: string;
  path: string;
  url: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json?: unknown;
  clientCertificate?: string;
}

const MAX_BODY_BYTES = 1024 * 1024;

/** Start the echo upstream; resolves once it listens. */
export async function startEchoUpstream(options: EchoUpstreamOptions): Promise<Server> {
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    void answer(req, res);
  };
  const server =
    options.tlsCert && options.tlsKey
      ? createHttpsServer(
          {
            cert: readFileSync(options.tlsCert),
            key: readFileSync(options.tlsKey),
            ...(options.tlsCa ? { ca: readFileSync(options.tlsCa), requestCert: true, rejectUnauthorized: true } : {}),
          },
          handler,
        )
      : createHttpServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  return server;
}

async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req);
  if (body === null) return send(res, 413, { error: 'payload_too_large' });
  const url = new URL(req.url ?? '/', 'http://echo.invalid');
  const status = /^\/status\/([1-5]\d\d)$/.exec(url.pathname);
  if (status) return send(res, Number(status[1]), { status: Number(status[1]) });
  send(res, 200, describe(req, url, body));
}

function describe(req: IncomingMessage, url: URL, body: string): EchoAnswer {
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(url.searchParams.keys())) {
    const values = url.searchParams.getAll(key);
    query[key] = values.length === 1 ? values[0]! : values;
  }
  const described: EchoAnswer = {
    method: req.method ?? 'GET',
    path: url.pathname,
    url: req.url ?? '/',
    query,
    headers: req.headers,
    body,
  };
  if (/json/i.test(req.headers['content-type'] ?? '')) {
    try {
      described.json = JSON.parse(body);
    } catch {
      /* not JSON after all: the body says it */
    }
  }
  const socket = req.socket as Partial<TLSSocket>;
  const subject = socket.getPeerCertificate?.()?.subject;
  if (subject?.CN) described.clientCertificate = String(subject.CN);
  return described;
}

/** The body as text, or null when it exceeds MAX_BODY_BYTES. */
async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

function main(argv: string[]): void {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '3100' },
      host: { type: 'string', default: '127.0.0.1' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-ca': { type: 'string' },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`echo-upstream: --port must be a port number, got ${values.port}\n`);
    process.exit(2);
  }
  if (Boolean(values['tls-cert']) !== Boolean(values['tls-key'])) {
    process.stderr.write('echo-upstream: --tls-cert and --tls-key go together\n');
    process.exit(2);
  }
  startEchoUpstream({
    port,
    host: values.host,
    tlsCert: values['tls-cert'],
    tlsKey: values['tls-key'],
    tlsCa: values['tls-ca'],
  })
    .then((server) => {
      const address = server.address();
      const scheme = values['tls-cert'] ? 'https' : 'http';
      process.stdout.write(
        `echo upstream on ${scheme}://${values.host}:${typeof address === 'object' && address ? address.port : port}\n`,
      );
      const stop = (): void => {
        server.close();
        server.closeAllConnections?.();
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    })
    .catch((error: Error) => {
      process.stderr.write(`echo-upstream: ${error.message}\n`);
      process.exit(1);
    });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main(process.argv.slice(2));
