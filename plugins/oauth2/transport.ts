/**
 * Which requests count as HTTPS for the `oauth2` endpoints and protected route, in Kong's terms:
 * `requireHttps` (default true; false for plain HTTP in development) asks for a TLS connection to
 * the gateway; `acceptHttpIfAlreadyTerminated` (Kong's `accept_http_if_already_terminated`,
 * default false) also accepts plain HTTP from a trusted proxy that says `X-Forwarded-Proto: https`
 * (the gateway's `proxy.trustedProxies`: from anyone else the header is ignored).
 */
import { InvalidRequestError, type RequestContext } from '../../core/plugin-api.js';

export function httpsRequirement(config: { requireHttps: boolean; acceptHttpIfAlreadyTerminated: boolean }): (ctx: RequestContext) => void {
  if (!config.requireHttps) return () => {};
  return (ctx) => {
    const ownTls = (ctx.req.socket as { encrypted?: boolean }).encrypted === true;
    // ctx.scheme is the forwarded one only when the peer is a trusted proxy.
    if (ownTls || (config.acceptHttpIfAlreadyTerminated && ctx.scheme === 'https')) return;
    ctx.req.resume();
    throw new InvalidRequestError('This endpoint is only served over HTTPS');
  };
}
