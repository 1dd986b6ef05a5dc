/**
 * `upstream-jwt` (Kong's "Upstream JWT"): every request forwarded on the route carries a fresh,
 * short-lived JWT signed by a gateway key pair, so the upstream can check that the request came
 * through the gateway (and for whom) at the gateway's JWKS. Runs in `transformRequest`, after every
 * access plugin has identified the consumer. It fails closed: without a usable signing key the
 * request is answered 502 and never forwarded without the token.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  KEYPAIRS,
  KeyService,
  UpstreamTokenUnavailableError,
  type BootConfig,
  type EntityReference,
  type InstanceScope,
  type Plugin,
  type PluginSteps,
  type RequestContext,
  duration,
} from '../../core/plugin-api.js';
import { UpstreamJwtConfigSchema, type UpstreamJwtConfig } from './schema.js';

export class UpstreamJwtPlugin implements Plugin<typeof UpstreamJwtConfigSchema> {
  readonly id = 'upstream-jwt';
  readonly name = 'Upstream JWT';
  readonly description =
    'Sends the upstream a fresh short-lived JWT per request, signed by a gateway key pair (iss, aud, iat/exp, jti, the consumer as sub, the method and path), verifiable at the gateway JWKS.';
  readonly configSchema = UpstreamJwtConfigSchema;
  readonly steps = ['transformRequest'] as const;
  readonly #keys: KeyService;
  readonly #boot: BootConfig;
  readonly #log: Logger;

  constructor(keys: KeyService, boot: BootConfig, log: Logger) {
    this.#keys = keys;
    this.#boot = boot;
    this.#log = log;
  }

  references(config: UpstreamJwtConfig): EntityReference[] {
    return [{ kind: KEYPAIRS, id: config.keyPair, path: '/keyPair' }];
  }

  describe(config: UpstreamJwtConfig): string {
    return `Signs a ${duration(config.lifetimeSeconds)} JWT per request with key pair ${config.keyPair}, sent in ${config.header}${config.bindRequest ? ', bound to the method and path' : ''}`;
  }

  instantiate(config: UpstreamJwtConfig, scope: InstanceScope): PluginSteps {
    const keys = this.#keys;
    const log = this.#log;
    const keyPair = config.keyPair;
    const header = config.header.toLowerCase();
    const prefix = config.scheme === '' ? '' : `${config.scheme} `;
    const issuer =
      config.issuer ??
      withoutTrailingSlash(this.#boot.proxy.publicUrl ?? `http://${this.#boot.proxy.host}:${this.#boot.proxy.port}`);
    const fixedAudience = config.audience ?? scope.routeId;
    const lifetime = config.lifetimeSeconds;
    const bindRequest = config.bindRequest;
    return {
      async transformRequest(ctx: RequestContext) {
        // Whatever happens next, a client-sent copy never reaches the upstream.
        delete ctx.upstreamHeaders[header];
        const now = Math.floor(Date.now() / 1000);
        const payload: Record<string, unknown> = {
          iss: issuer,
          aud: fixedAudience ?? ctx.route?.route.id ?? '',
          iat: now,
          exp: now + lifetime,
          jti: randomUUID(),
        };
        if (ctx.consumer !== null) payload.sub = ctx.consumer;
        if (bindRequest) {
          payload.htm = ctx.method;
          payload.htu = ctx.upstreamPath + ctx.search;
        }
        let token: string;
        try {
          // KeyService holds only the pairs it could load: an unusable key is as missing as a deleted one.
          if (!keys.has(keyPair)) throw new Error(`key pair "${keyPair}" is missing or could not be loaded`);
          token = await keys.sign(keyPair, payload);
        } catch (error) {
          log.error(
            { err: error, keyPairId: keyPair, requestId: ctx.id },
            'upstream JWT could not be signed; the request is refused, not forwarded without it',
          );
          throw new UpstreamTokenUnavailableError().withCause(error);
        }
        ctx.upstreamHeaders[header] = prefix + token;
      },
    };
  }
}

function withoutTrailingSlash(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}
