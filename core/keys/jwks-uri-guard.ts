/**
 * A guard against server-side request forgery through JWKS URLs a self-service portal submits: the
 * gateway fetches a `private_key_jwt` client's `jwksUri` itself, so a URL naming an internal address
 * (loopback, a private network, the cloud metadata service at 169.254.169.254) would let anyone with
 * a portal make the gateway GET that address. Such URLs are refused when written
 * (`jwksUriProblem`), and a client whose URL came from a portal is fetched only from public
 * addresses (`publicAddressesOnly`): the address checked is the one connected to, after DNS, so a
 * name that resolved to a public address when written and to 127.0.0.1 later (DNS rebinding) is
 * still refused. URLs the admin writes are not guarded: the admin configures internal services.
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
  ['64:ff9b::', 96, 'ipv6', 'a NAT64 address'],
  ['100::', 64, 'ipv6', 'a discard address'],
  ['fc00::', 7, 'ipv6', 'a unique-local address'],
  ['fe80::', 10, 'ipv6', 'a link-local address'],
  ['ff00::', 8, 'ipv6', 'a multicast address'],
];

const RANGES = NON_PUBLIC.map(([network, prefix, type, what]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, type);
  return { list, what };
});

/** What makes `ip` unfit for a portal-supplied URL (`a loopback address`…), or null for a public address. */
export function nonPublicAddress(ip: string): string | null {
  const family = isIP(ip);
  if (family === 0) return 'not an IP address';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  // BlockList matches IPv4-mapped IPv6 (::ffff:127.0.0.1) against the IPv4 ranges too.
  for (const { list, what } of RANGES) if (list.check(ip, type)) return what;
  return null;
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
  if (url.protocol !== 'https:') return 'A JWKS URL must be https (the operator may allow a host in portal.privateJwksHosts)';
  const host = hostOf(url);
  const literal = isIP(host) !== 0;
  const addresses = literal ? [host] : await resolveAll(host);
  for (const address of addresses) {
    const what = nonPublicAddress(address);
    if (what) return `${literal ? host : `${host} resolves to ${address}, which`} is ${what}: the gateway does not fetch keys from internal addresses for a portal (the operator may allow the host in portal.privateJwksHosts)`;
  }
  return null;
}

async function resolveAll(host: string): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string[]>((resolve) => { timer = setTimeout(() => resolve([]), WRITE_LOOKUP_TIMEOUT_MS); });
  const resolved = new Promise<string[]>((resolve) => {
    lookup(host, { all: true, verbatim: true }, (error, addresses) => resolve(error ? [] : addresses.map((a) => a.address)));
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
    if (bad) return callback(Object.assign(new Error(`${hostname} resolves to ${bad.address}, which is ${nonPublicAddress(bad.address)}: not fetched`), { code: 'ERR_NON_PUBLIC_ADDRESS' }), []);
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
