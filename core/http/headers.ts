/**
 * Header hygiene between client and upstream (RFC 9110 §7.6.1): hop-by-hop headers, and any header
 * the `Connection` header names, never cross the proxy.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { util as undiciUtil } from 'undici';

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
  const named = incoming.connection ? connectionOptions(incoming.connection) : null;
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
  const named = typeof connection === 'string' ? connectionOptions(connection) : null;
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || (named !== null && named.has(name))) continue;
    out[name] = headers[name];
  }
  return out;
}

/**
 * The upstream response head as undici hands it to a dispatch handler (name and value buffers), made
 * into the one header object the client's head is written from, without hop-by-hop headers. Names
 * are lower-cased by undici's table of known names; values are read as latin1, byte for byte; a
 * repeated header becomes an array, as `parseHeaders` makes it.
 */
export function upstreamResponseHeaders(raw: readonly Buffer[]): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  let named: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = undiciUtil.headerNameToString(raw[i]!);
    if (HOP_BY_HOP.has(name)) {
      const listed = name === 'connection' ? connectionOptions(raw[i + 1]!.toString('latin1')) : null;
      if (listed !== null) named = named === null ? listed : new Set([...named, ...listed]);
      continue;
    }
    const value = raw[i + 1]!.toString('latin1');
    const prior = out[name];
    if (prior === undefined) {
      if (name === '__proto__') Object.defineProperty(out, name, { value, enumerable: true, writable: true });
      else out[name] = value;
    } else if (Array.isArray(prior)) prior.push(value);
    else out[name] = [prior as string, value];
  }
  if (named !== null) for (const name of named) delete out[name];
  return out;
}

/** The header names a `Connection` value lists (RFC 9110 §7.6.1), null for the plain keep-alive and close. */
function connectionOptions(value: string): Set<string> | null {
  return value === 'keep-alive' || value === 'close' ? null : connectionTokens(value);
}

function connectionTokens(value: string): Set<string> {
  return new Set(
    value
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  );
}
