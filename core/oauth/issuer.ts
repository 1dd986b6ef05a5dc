/**
 * The one source of an authorization server's issuer and of the audiences a client assertion may
 * name (RFC 7523 §3): configuration, never what a client sends. `oauth2` routes have one issuer
 * each (`routeIssuer`); the `client-credentials` sink has the configured one (`configuredIssuer`)
 * or, with `issuerFromHost`, one per host its `domain` lists (`hostIssuer`).
 */
import type { RequestContext } from '../plugin-runtime/context.js';
import type { RouteDomain } from '../config/request-path.js';
import type { AssertionAudience } from '../keys/client-assertions.js';

/** The route's issuer, or why it has none (a write-time refusal naming the setting to give). */
export type IssuerChoice = { issuer: string; problem?: undefined } | { issuer?: undefined; problem: string };

export function withoutTrailingSlash(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}

/**
 * The issuer of a route's authorization server, from configuration only (never from a request):
 * the plugin's `issuer`; else `proxy.publicUrl` (as configured, not the listener's address) plus
 * the route's path prefix; else, for a route with exactly one fixed host, `https://<host><prefix>`
 * (`http` when `requireHttps` is off). A global instance (no domains) is decided on each route.
 */
export function routeIssuer(
  config: { issuer?: string; requireHttps: boolean },
  domains: readonly RouteDomain[] | undefined,
  publicUrl: string | undefined,
): IssuerChoice {
  if (config.issuer !== undefined) return { issuer: withoutTrailingSlash(config.issuer) };
  if (domains === undefined) return { problem: 'a global instance has no route' };
  const prefixes = [...new Set(domains.map((d) => d.prefix))];
  if (prefixes.length !== 1)
    return {
      problem: `the route's domains have different path prefixes (${prefixes.map((p) => p || '/').join(', ')}): set the plugin's \`issuer\` to the one clients use`,
    };
  const prefix = prefixes[0]!;
  if (publicUrl !== undefined) return { issuer: withoutTrailingSlash(publicUrl) + prefix };
  const hosts = [...new Set(domains.map((d) => d.host))];
  if (hosts.length === 1 && !hosts[0]!.startsWith('*'))
    return { issuer: `${config.requireHttps ? 'https' : 'http'}://${hosts[0]}${prefix}` };
  return {
    problem: `the route answers ${hosts.length === 1 ? `the wildcard host ${hosts[0]}` : `several hosts (${hosts.join(', ')})`}, so it has no issuer of its own: set the plugin's \`issuer\`, or \`proxy.publicUrl\` in the boot configuration (PORTCULLIS_PUBLIC_URL)`,
  };
}

/** RFC 7523 §3: an assertion names the token endpoint, the endpoint receiving it, or the issuer. */
export function assertionAudience(issuer: string, tokenEndpoint: string, receivingEndpoint: string): AssertionAudience {
  return { audiences: [tokenEndpoint, receivingEndpoint, issuer] };
}

/**
 * The issuer of a request in `issuerFromHost` mode: `<scheme>://<host>[:<port>]`, where host is the
 * request's host name (lower-cased, already matched by `domain`) and port the Host header's port
 * when it is a valid one other than the scheme's default.
 */
export function hostIssuer(ctx: RequestContext): string {
  const header = ctx.headers.host ?? '';
  const port = /:(\d{1,5})$/.exec(header.startsWith('[') ? header.slice(header.indexOf(']')) : header)?.[1];
  const portNumber = port === undefined ? 0 : Number(port);
  const defaultPort = ctx.scheme === 'https' ? 443 : 80;
  const suffix = portNumber > 0 && portNumber <= 65535 && portNumber !== defaultPort ? `:${portNumber}` : '';
  return `${ctx.scheme}://${ctx.host}${suffix}`;
}
