/**
 * A second reference: the bare proxy written on undici's dispatcher API, as the gateway's proxy is
 * (`core/http/proxied-request.ts`): one handler object per request instead of `pool.stream()`'s
 * handler, `finished()` watcher and callback. The gap between the two bare proxies is what the API
 * choice alone is worth; the gateway's ratios stay measured against `bare-proxy.ts`, the issue's
 * reference. Usage: bare-dispatch-proxy <upstream-url>.
 */
import { createServer, type IncomingMessage, type ServerResponse, type OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HOP, strip } from './hop-by-hop.js';
import { Pool, util, type Dispatcher } from 'undici';

const pool = new Pool(process.argv[2]!, { connections: 1024 });

class Forwarded implements Dispatcher.DispatchHandler {
  #resume: (() => void) | null = null;
  #responding = false;
  constructor(readonly res: ServerResponse) {}
  onConnect(): void {}
  onHeaders(statusCode: number, raw: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true;
    const headers: OutgoingHttpHeaders = {};
    for (let i = 0; i < raw.length; i += 2) {
      const name = util.headerNameToString(raw[i]!);
      if (!HOP.has(name)) headers[name] = raw[i + 1]!.toString('latin1');
    }
    this.res.writeHead(statusCode, headers);
    this.#responding = true;
    this.#resume = resume;
    return true;
  }
  onData(chunk: Buffer): boolean {
    if (this.res.write(chunk)) return true;
    this.res.once('drain', this.#resume!);
    return false;
  }
  onComplete(): void {
    this.res.end();
  }
  onError(): void {
    if (this.#responding) this.res.destroy();
    else {
      this.res.statusCode = 502;
      this.res.end();
    }
  }
}

const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  pool.dispatch(
    {
      path: req.url!,
      method: req.method as Dispatcher.HttpMethod,
      headers: strip(req.headers),
      body: req.headers['content-length'] ? req : null,
    },
    new Forwarded(res),
  );
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
process.on('SIGINT', () => process.exit(0)); // lets --cpu-prof write its profile
