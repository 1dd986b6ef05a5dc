/** The hop-by-hop headers both bare reference proxies leave out, and the copy without them. */
export const HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export function strip(headers: Record<string, unknown>): Record<string, any> {
  const out: Record<string, any> = {};
  for (const name in headers) if (!HOP.has(name)) out[name] = headers[name];
  return out;
}
