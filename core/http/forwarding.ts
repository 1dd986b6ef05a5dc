/**
 * Who may describe a request for us: the proxies in front (`proxy.trustedProxies`,
 * `authorizer.trustedProxies`), whose `X-Forwarded-*` (and, for the authorizer, `X-Original-*`)
 * headers are honoured; anyone else's are not. Shared by the proxy and the authorizer listener so
 * both apply the same rules.
 */
import { BlockList, isIPv4 } from 'node:net';

/** A set of trusted addresses and CIDR ranges; `trusts` answers for a socket's remote address. */
export class TrustedProxies {
  readonly #list: BlockList | null;

  constructor(entries: readonly string[]) {
    this.#list = entries.length === 0 ? null : buildTrustList(entries);
  }

  /** Whether `remote` (as `socket.remoteAddress`, after `stripMappedPrefix`) is a trusted proxy. */
  trusts(remote: string): boolean {
    return this.#list !== null && remote !== '' && this.#list.check(remote, isIPv4(remote) ? 'ipv4' : 'ipv6');
  }
}

/** The first value of a possibly repeated, possibly comma-separated header, trimmed. */
export function firstValue(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  const comma = v.indexOf(',');
  return (comma === -1 ? v : v.slice(0, comma)).trim();
}

/** `::ffff:10.0.0.1` → `10.0.0.1`: an IPv4 peer on a dual-stack socket is matched as IPv4. */
export function stripMappedPrefix(address: string): string {
  return address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
}

function buildTrustList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split('/');
    const type = isIPv4(address!) ? 'ipv4' : 'ipv6';
    if (prefix !== undefined) list.addSubnet(address!, Number(prefix), type);
    else list.addAddress(address!, type);
  }
  return list;
}
