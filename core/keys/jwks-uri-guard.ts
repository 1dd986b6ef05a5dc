/**
 * A guard against server-side request forgery through JWKS URLs a self-service portal submits: the
 * gateway fetches a `private_key_jwt` client's `jwksUri` itself, so a URL naming an internal address
 * (loopback, a private network, the cloud metadata service at 169.254.169.254) would let anyone with
 * a portal make the gateway GET that address. Such URLs are refused when written
 * (`jwksUriProblem`), and a client whose URL came from a portal is fetched only from public
 * addresses (`publicAddressesOnly`): the address checked is the one connected to, after DNS, so a
 * name that resolved to a public address when written and to 127.0.0.1 later (DNS rebinding) is
 * still refused. An IPv6 address that carries an IPv4 one (mapped, compatible, NAT64, 6to4) is
 * judged by that IPv4 address as well. URLs the admin writes are not guarded: the admin configures
 * internal services.
 */
import { BlockList, isIP } from 'node:net';
import { lookup, type LookupAddress, type LookupAllOptions, type LookupOptions } from 'node:dns';
import { Agent, type Dispatcher } from 'undici';

/**
 * Metadata of an API key whose `jwksUri` a portal submitted (the value names the API token): its
 * key set is fetched from public addresses only. Removing it (the admin) lifts the check.
 */
export const JWKS_URI_PUBLIC_ONLY = 'jwks-uri-public-only';

/** Address ranges no portal-supplied URL may reach, with what each is, for the error message. */
const NON_PUBLIC: ReadonlyArray<[network: string, prefix: number, type: 'ipv4' | 'ipv6', what: string]> = [
  ['0.0.0.0', 8, 'ipv4', 'a "this network" address'],
  ['10.0.0.0', 8, 'ipv4', 'a private address'],
  ['100.64.0.0', 10, 'ipv4', 'a carrier-grade NAT address'],
  ['127.0.0.0', 8, 'ipv4', 'a loopback address'],
  ['169.254.0.0', 16, 'ipv4', 'a link-local address (cloud metadata services live there)'],
  ['172.16.0.0', 12, 'ipv4', 'a private address'],
  ['192.0.0.0', 24, 'ipv4', 'an IETF protocol address'],
  ['192.168.0.0', 16, 'ipv4', 'a private address'],
  ['198.18.0.0', 15, 'ipv4', 'a benchmarking address'],
  ['224.0.0.0', 4, 'ipv4', 'a multicast address'],
  ['240.0.0.0', 4, 'ipv4', 'a reserved address'],
  ['::', 128, 'ipv6', 'the unspecified address'],
  ['::1', 128, 'ipv6', 'a loopback address'],
  // RFC 8215: local-use NAT64 translates to whatever IPv4 network the operator chose, so all of it.
  ['64:ff9b:1::', 48, 'ipv6', 'a local-use NAT64 address'],
  ['100::', 64, 'ipv6', 'a discard address'],
  // Teredo tunnels to an IPv4 relay and client (RFC 4380): deprecated, never a key server's address.
  ['2001::', 32, 'ipv6', 'a Teredo address'],
  ['fc00::', 7, 'ipv6', 'a unique-local address'],
  ['fe80::', 10, 'ipv6', 'a link-local address'],
  // RFC 3879 deprecated site-local addresses; some stacks still route them inside the site.
  ['fec0::', 10, 'ipv6', 'a site-local address'],
  ['ff00::', 8, 'ipv6', 'a multicast address'],
];

/**
 * IPv6 forms that carry an IPv4 address, and where: a packet to one of them reaches (or is
 * translated to) that IPv4 address, so it is judged by the IPv4 ranges. `groups` is the 16-bit
 * prefix the form starts with, the IPv4 address sits in 16-bit groups `at` and `at + 1`.
 */
const IPV4_CARRIERS: ReadonlyArray<{ groups: readonly number[]; at: number; what: string }> = [
  { groups: [0, 0, 0, 0, 0, 0xffff], at: 6, what: 'an IPv4-mapped form' }, // ::ffff:a.b.c.d (RFC 4291 §2.5.5.2)
  { groups: [0, 0, 0, 0, 0xffff, 0], at: 6, what: 'an IPv4-translated form' }, // ::ffff:0:a.b.c.d (RFC 2765 SIIT)
  { groups: [0, 0, 0, 0, 0, 0], at: 6, what: 'an IPv4-compatible form' }, // ::a.b.c.d (RFC 4291 §2.5.5.1, deprecated)
  { groups: [0x64, 0xff9b, 0, 0, 0, 0], at: 6, what: 'a NAT64 form' }, // 64:ff9b::a.b.c.d (RFC 6052)
  { groups: [0x2002], at: 1, what: 'a 6to4 form' }, // 2002:AABB:CCDD::/48 (RFC 3056)
];

const RANGES = NON_PUBLIC.map(([network, prefix, type, what]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, type);
  return { list, what };
});

/**
 * What makes `ip` unfit for a portal-supplied URL (`a loopback address`…), or null for a public
 * address. An IPv6 address carrying an IPv4 one (mapped, compatible, NAT64, 6to4), in any spelling
 * (`::127.0.0.1`, `::7f00:1`), is judged by that IPv4 address too.
 */
export function nonPublicAddress(ip: string): string | null {
  const family = isIP(ip);
  if (family === 0) return 'not an IP address';
  if (family === 4) return rangeOf(ip, 'ipv4');
  const groups = ipv6Groups(ip);
  if (groups === null) return 'not an IP address';
  const own = rangeOf(groups.map((g) => g.toString(16)).join(':'), 'ipv6');
  if (own !== null) return own;
  const embedded = embeddedIPv4(groups);
  const what = embedded && rangeOf(embedded.ipv4, 'ipv4');
  return what ? `${embedded!.what} of ${embedded!.ipv4}, ${what}` : null;
}

function rangeOf(ip: string, type: 'ipv4' | 'ipv6'): string | null {
  for (const { list, what } of RANGES) if (list.check(ip, type)) return what;
  return null;
}

/** The eight 16-bit groups of an IPv6 address (any spelling, a zone id ignored), or null. */
function ipv6Groups(ip: string): number[] | null {
  const literal = `http://[${ip.split('%')[0]}]`;
  if (!URL.canParse(literal)) return null;
  // The URL parser writes an embedded dotted quad in hex: only hex groups and one `::` are left.
  const normalized = new URL(literal).hostname.slice(1, -1);
  const [head, tail] = normalized.split('::') as [string, string | undefined];
  const parse = (part: string | undefined) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const start = parse(head);
  const end = parse(tail);
  return [...start, ...new Array<number>(8 - start.length - end.length).fill(0), ...end];
}

/** The IPv4 address an IPv6 address carries, and in which form, or null. */
function embeddedIPv4(groups: readonly number[]): { ipv4: string; what: string } | null {
  const carrier = IPV4_CARRIERS.find((c) => c.groups.every((g, i) => groups[i] === g));
  if (!carrier) return null;
  const high = groups[carrier.at]!;
  const low = groups[carrier.at + 1]!;
  return { ipv4: `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`, what: carrier.what };
}

/** The URL's host as `lookup` and `isIP` want it: IPv6 literals without their brackets. */
function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/** Whether the operator allows `host` (`portal.privateJwksHosts`; `*`: any). */
export function jwksHostAllowed(url: URL, allowedHosts: readonly string[]): boolean {
  const host = hostOf(url).toLowerCase();
  return allowedHosts.some((allowed) => allowed === '*' || allowed.toLowerCase().replace(/^\[|\]$/g, '') === host);
}

const WRITE_LOOKUP_TIMEOUT_MS = 5_000;

/**
 * Why a portal may not register `jwksUri` (null: it may): not https, or a host that is, or
 * resolves to, a non-public address, unless the operator allows the host. A name that does not
 * resolve now is accepted: the fetch-time check applies whatever it resolves to later.
 */
export async function jwksUriProblem(jwksUri: string, allowedHosts: readonly string[]): Promise<string | null> {
  const url = URL.canParse(jwksUri) ? new URL(jwksUri) : null;
  if (!url) return 'Not a URL';
  if (jwksHostAllowed(url, allowedHosts)) return null;
  if (url.protocol !== 'https:')
    return 'A JWKS URL must be https (the operator may allow a host in portal.privateJwksHosts)';
  const host = hostOf(url);
  const literal = isIP(host) !== 0;
  const addresses = literal ? [host] : await resolveAll(host);
  for (const address of addresses) {
    const what = nonPublicAddress(address);
    if (what)
      return `${literal ? host : `${host} resolves to ${address}, which`} is ${what}: the gateway does not fetch keys from internal addresses for a portal (the operator may allow the host in portal.privateJwksHosts)`;
  }
  return null;
}

async function resolveAll(host: string): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string[]>((resolve) => {
    timer = setTimeout(() => resolve([]), WRITE_LOOKUP_TIMEOUT_MS);
  });
  const resolved = new Promise<string[]>((resolve) => {
    lookup(host, { all: true, verbatim: true }, (error, addresses) =>
      resolve(error ? [] : addresses.map((a) => a.address)),
    );
  });
  try {
    return await Promise.race([resolved, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** `dns.lookup` for sockets, refusing names that resolve to any non-public address. */
function publicLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  lookup(hostname, { ...options, all: true } as LookupAllOptions, (error, addresses) => {
    if (error) return callback(error, []);
    const bad = addresses.find((a) => nonPublicAddress(a.address) !== null);
    if (bad)
      return callback(
        Object.assign(
          new Error(`${hostname} resolves to ${bad.address}, which is ${nonPublicAddress(bad.address)}: not fetched`),
          { code: 'ERR_NON_PUBLIC_ADDRESS' },
        ),
        [],
      );
    if (options.all) return callback(null, addresses);
    const first = addresses[0];
    if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
    callback(null, first.address, first.family);
  });
}

let publicOnlyAgent: Agent | null = null;

/** The dispatcher for portal-supplied URLs: every connection's resolved address is checked. */
export function publicOnlyDispatcher(): Dispatcher {
  publicOnlyAgent ??= new Agent({ connect: { lookup: publicLookup } });
  return publicOnlyAgent;
}

/** At fetch time: a URL whose host is itself a non-public IP literal (sockets skip the lookup for those). */
export function nonPublicLiteral(url: string): string | null {
  const parsed = URL.canParse(url) ? new URL(url) : null;
  if (!parsed) return 'not a URL';
  const host = hostOf(parsed);
  if (isIP(host) === 0) return null;
  const what = nonPublicAddress(host);
  return what && `${host} is ${what}`;
}
