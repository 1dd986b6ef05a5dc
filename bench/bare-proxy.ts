/**
 * The reference: node:http + one undici Pool with `pool.stream()`, hop-by-hop headers
 * removed, nothing else, the usual way to write a Node proxy on undici (`bare-dispatch-proxy.ts` is
 * the same on the dispatcher API, which costs less). Usage: bare-proxy <upstream-url>.
 */
import { createServer, type ServerResponse, type OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { strip } from './hop-by-hop.js';
import { Pool, type Dispatcher } from 'undici';

const pool = new Pool(process.argv[2]!, { connections: 1024 });

const server = createServer((req, res) => {
  pool
    .stream(
      {
        path: req.url!,
        method: req.method as Dispatcher.HttpMethod,
        headers: strip(req.headers),
        body: req.headers['content-length'] ? req : null,
        opaque: res,
      },
      ({ statusCode, headers, opaque }) => {
        const out = opaque as ServerResponse;
        out.writeHead(statusCode, strip(headers) as OutgoingHttpHeaders);
        return out;
      },
    )
    .catch(() => {
      if (!res.headersSent) {
        res.statusCode = 502;
        res.end();
      } else res.destroy();
    });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
process.on('SIGINT', () => process.exit(0)); // lets --cpu-prof write its profile
