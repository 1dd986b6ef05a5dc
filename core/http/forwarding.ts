/**
 * Who may describe a request for us: the proxies in front (`proxy.trustedProxies`,
 * `authorizer.trustedProxies`), whose `X-Forwarded-*` (and, for the authorizer, `X-Original-*`)
 * headers are honoured; anyone else's are not. Shared by the proxy and the authorizer listener so
 * both apply the same rules.
 */
import { BlockList, isIP, isIPv4, isIPv6 } from 'node:net';

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

  /**
   * The client behind trusted proxies: X-Forwarded-For read from the right (the entry our peer
   * appended), skipping the addresses of trusted proxies; the first other address is the client.
   * Entries further left were written by that client and prove nothing (taking the left-most one let
   * any client pick its address through a proxy that appends). A malformed entry stops the walk at
   * the last address a trusted proxy vouched for.
   */
  clientBehind(forwardedFor: string, remote: string): string {
    const entries = forwardedFor.split(',');
    let client = remote;
    for (let i = entries.length - 1; i >= 0; i--) {
      const address = forwardedAddress(entries[i]!.trim());
      if (address === null) return client;
      client = address;
      if (!this.trusts(address)) return address;
    }
    return client;
  }
}

/** An X-Forwarded-For entry's address; some proxies add a port (`1.2.3.4:5678`, `[2001:db8::1]:443`). */
function forwardedAddress(entry: string): string | null {
  if (isIP(entry) !== 0 && !entry.includes('%')) return stripMappedPrefix(entry);
  const bracketed = /^\[([0-9A-Fa-f:.]+)\](?::\d{1,5})?$/.exec(entry);
  if (bracketed && isIPv6(bracketed[1]!)) return stripMappedPrefix(bracketed[1]!);
  const withPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(entry);
  if (withPort && isIPv4(withPort[1]!)) return withPort[1]!;
  return null;
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
