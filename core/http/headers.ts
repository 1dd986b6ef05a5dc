/**
 * Header hygiene between client and upstream (RFC 9110 §7.6.1): hop-by-hop headers, and any header
 * the `Connection` header names, never cross the proxy.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

/** Copy request headers for the upstream, without hop-by-hop ones (and `expect`, which undici refuses). */
export function upstreamRequestHeaders(incoming: IncomingHttpHeaders): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {};
  const connection = incoming.connection;
  const named =
    connection && connection !== 'keep-alive' && connection !== 'close' ? connectionTokens(connection) : null;
  for (const name in incoming) {
    if (HOP_BY_HOP.has(name) || name === 'expect' || (named !== null && named.has(name))) continue;
    out[name] = incoming[name];
  }
  return out;
}

/**
 * The upstream response head without hop-by-hop headers, as a new object: deleting properties would
 * turn the object into a slow dictionary that Node then iterates to write the head.
 */
export function stripResponseHopByHop(headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
  const connection = headers.connection;
  const named =
    typeof connection === 'string' && connection !== 'keep-alive' && connection !== 'close'
      ? connectionTokens(connection)
      : null;
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || (named !== null && named.has(name))) continue;
    out[name] = headers[name];
  }
  return out;
}

function connectionTokens(value: string): Set<string> {
  return new Set(
    value
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  );
}
