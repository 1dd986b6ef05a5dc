/**
 * The one transport rule of the OAuth endpoints (and the `oauth2` protected route), in Kong's
 * terms: `requireHttps` asks for HTTPS; the request counts as HTTPS when the client's hop was
 * (`ctx.scheme`: the gateway's own, or what a trusted proxy of `proxy.trustedProxies` says in
 * `X-Forwarded-Proto`; from anyone else the header is ignored) and, unless
 * `acceptHttpIfAlreadyTerminated` (Kong's `accept_http_if_already_terminated`), the connection to
 * the gateway is TLS too. The `client-credentials` sink's `secure` is `requireHttps` with
 * terminated HTTPS accepted.
 */
import { InvalidRequestError } from '../../errors.js';
import type { RequestContext } from '../../plugin-runtime/context.js';
import { step, type Step } from '../endpoint.js';

export interface TransportOptions {
  requireHttps: boolean;
  acceptHttpIfAlreadyTerminated: boolean;
}

/** A request's transport check: throws 400 `invalid_request` (its body unread) when not HTTPS. */
export type TransportRule = (ctx: RequestContext) => void;

export function transportRule(options: TransportOptions): TransportRule {
  if (!options.requireHttps) return () => {};
  const acceptTerminated = options.acceptHttpIfAlreadyTerminated;
  return (ctx) => {
    const ownTls = ctx.secureConnection;
    if (ctx.scheme === 'https' && (ownTls || acceptTerminated)) return;
    ctx.discardBody();
    throw new InvalidRequestError('This endpoint is only served over HTTPS');
  };
}

export function transportStep(rule: TransportRule): Step {
  return step('transport', (exchange) => rule(exchange.ctx));
}
