/** A plain node:http client for tests: full control of headers (Host included), bodies and sockets. */
import { request as httpRequest, Agent, type IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';

export interface TestResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json(): any;
}

export interface TestRequest {
  method?: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer | Readable;
  agent?: Agent | false;
  timeoutMs?: number;
}

export function send(url: string, options: TestRequest = {}): Promise<TestResponse> {
  return new Promise((resolve, reject) => {
    // The path is passed raw: URL parsing would normalize `%2e%2e` and hide what a client can send.
    const match = /^(https?:\/\/[^/]+)(\/.*)?$/.exec(url);
    if (!match) throw new Error(`not an absolute URL: ${url}`);
    const origin = new URL(match[1]!);
    const req = httpRequest(
      {
        host: origin.hostname,
        port: origin.port,
        path: match[2] ?? '/',
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: options.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (options.timeoutMs) req.setTimeout(options.timeoutMs, () => req.destroy(new Error('test request timed out')));
    const body = options.body;
    if (body === undefined) req.end();
    else if (typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
    else body.pipe(req);
  });
}

/** JSON helper: sends `body` as JSON. */
export function sendJson(
  url: string,
  method: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<TestResponse> {
  return send(url, { method, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

export function basic(user: string, password: string): string {
  return 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
}
