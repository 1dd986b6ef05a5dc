/**
 * A peer for comparison: Fastify with @fastify/http-proxy (reply-from over an undici pool, its
 * default transport), logging off, proxying everything to one upstream. Usage: fastify-proxy <upstream-url>.
 * Prints its port.
 */
import Fastify from 'fastify';
import proxy from '@fastify/http-proxy';
import type { AddressInfo } from 'node:net';

const app = Fastify({ logger: false, keepAliveTimeout: 60_000 });
await app.register(proxy, { upstream: process.argv[2]!, undici: { connections: 1024 } });
await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`${(app.server.address() as AddressInfo).port}\n`);
process.on('SIGINT', () => process.exit(0));
