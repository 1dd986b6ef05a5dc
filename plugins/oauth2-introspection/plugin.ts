/**
 * `oauth2-introspection` (validateAccess): opaque bearer tokens from an external authorization
 * server (Ory Hydra, Keycloak, Kong, Portcullis' own `oauth2` routes), checked by RFC 7662
 * introspection, as Oathkeeper's `oauth2_introspection` authenticator does. The response is cached
 * (`response-cache.ts`) and judged again on every request: active, not expired, issuer, audience,
 * then the access rules with their scopes (the core's rules, the same as `jwt-verifier`'s).
 * Answers follow RFC 6750: 401 without a token, 401 `invalid_token` for an inactive one, 403
 * `insufficient_scope` with the challenge; 503 `introspection_unavailable` when the server cannot
 * tell (fail closed).
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type {
  ErrorDetail,
  InstanceScope,
  Plugin,
  PluginSteps,
  RequestContext,
  StateStore,
} from '../../core/plugin-api.js';
import {
  claimHeaderValue,
  duration,
  headerValue,
  InvalidBearerTokenError,
  UnauthorizedError,
  ForbiddenError,
  bearerChallenge,
  claimOf,
  compileAccessPolicy,
  ruleProblems,
  removeToken,
  tokenExtractor,
  DEFAULT_TOKEN_SOURCE,
  RevocationEpoch,
} from '../../core/plugin-api.js';
import { OAuth2IntrospectionConfigSchema, type OAuth2IntrospectionConfig } from './schema.js';
import { IntrospectionClient, type IntrospectionResponse } from './introspection-client.js';
import { ResponseCache } from './response-cache.js';

declare module '../../core/plugin-api.js' {
  interface ContextAttributes {
    /** The introspection response of the request's token (`oauth2-introspection`). */
    introspection?: IntrospectionResponse;
  }
}

/** Headers the upstream gets from the gateway only: any client-sent copy is removed first. */
const IDENTITY_HEADERS = ['x-authenticated-userid', 'x-authenticated-scope'] as const;

function oneOrMany(value: string | string[] | undefined): ReadonlySet<string> | null {
  return value === undefined ? null : new Set(typeof value === 'string' ? [value] : value);
}

export class OAuth2IntrospectionPlugin implements Plugin<typeof OAuth2IntrospectionConfigSchema> {
  readonly id = 'oauth2-introspection';
  readonly name = 'OAuth 2.0 token introspection';
  readonly description =
    "Checks opaque bearer tokens with the authorization server's RFC 7662 introspection endpoint (cached, fail closed) and enforces scopes per method and path.";
  readonly configSchema = OAuth2IntrospectionConfigSchema;
  readonly steps = ['validateAccess'] as const;
  readonly #state: StateStore;
  readonly #epoch: RevocationEpoch;
  readonly #log: Logger | null;

  constructor(state: StateStore, epoch: RevocationEpoch, log?: Logger) {
    this.#state = state;
    this.#epoch = epoch;
    this.#log = log ?? null;
  }

  checkConfig(config: OAuth2IntrospectionConfig): ErrorDetail[] {
    const problems: ErrorDetail[] = [];
    if ((config.introspectionUrl === undefined) === (config.issuer === undefined))
      problems.push({ path: '/introspectionUrl', message: 'Give exactly one of introspectionUrl and issuer' });
    for (const [field, value] of [
      ['introspectionUrl', config.introspectionUrl],
      ['issuer', config.issuer],
    ] as const) {
      if (value !== undefined && !URL.canParse(value)) problems.push({ path: `/${field}`, message: 'Not a valid URL' });
    }
    problems.push(...ruleProblems(config.rules));
    return problems;
  }

  describe(config: OAuth2IntrospectionConfig): string {
    const at = config.introspectionUrl ?? (config.issuer ? `${config.issuer} (discovered)` : 'no endpoint');
    return `Opaque tokens introspected at ${at}; ${config.cache.ttlSeconds ? `cached ${duration(config.cache.ttlSeconds)}` : 'not cached'}; ${config.rules.length} access rule${config.rules.length === 1 ? '' : 's'}${config.anonymous ? `; anonymous as ${config.anonymous}` : ''}`;
  }

  instantiate(config: OAuth2IntrospectionConfig, scope: InstanceScope): PluginSteps {
    const log = this.#log;
    const client = new IntrospectionClient(config, log);
    const introspect = (token: string) => client.introspect(token);
    const provider = createHash('sha256')
      .update(
        JSON.stringify([config.introspectionUrl ?? null, config.issuer ?? null, config.clientId, config.tokenTypeHint]),
      )
      .digest('base64url');
    const cache = new ResponseCache(this.#state, this.#epoch, provider, config.cache, log);
    const policy = compileAccessPolicy(config.rules, {
      caseSensitive: scope.caseSensitive,
      scopeStrategy: config.scopeStrategy,
      scopeClaim: config.scopeClaim,
      realm: config.realm,
    });
    const source = config.source ?? DEFAULT_TOKEN_SOURCE;
    const extract = tokenExtractor(source);
    const problemOf = responseProblems(config);
    const realm = config.realm;
    const challenge = bearerChallenge(realm);
    const mapped = Object.entries(config.upstream.claimsToHeaders).map(
      ([member, header]) => [member, header.toLowerCase()] as const,
    );
    const cleared = [...IDENTITY_HEADERS, ...mapped.map(([, header]) => header)];
    const hideCredentials = config.upstream.hideCredentials;

    function passAnonymous(ctx: RequestContext, anonymous: string): void {
      const rule = policy.find(ctx.method, ctx.routePath);
      if (!rule) throw new ForbiddenError('No access rule allows this request');
      if (rule.requiredScopes.length > 0) throw new UnauthorizedError('A bearer token is required', challenge);
      ctx.consumer = anonymous;
    }

    /** The request's verdict from its token's response: refused, or let through with who called. */
    function admit(ctx: RequestContext, response: IntrospectionResponse): void {
      const problem = problemOf(response, Math.floor(Date.now() / 1000));
      if (problem !== null) throw new InvalidBearerTokenError(problem, realm);
      policy.check(ctx.method, ctx.routePath, response);
      ctx.attrs.introspection = response;
      const headers = ctx.upstreamHeaders;
      const user =
        typeof response.sub === 'string'
          ? response.sub
          : typeof response.username === 'string'
            ? response.username
            : null;
      if (user !== null) headers['x-authenticated-userid'] = headerValue(user);
      const granted = claimOf(response, config.scopeClaim);
      if (granted !== undefined) headers['x-authenticated-scope'] = claimHeaderValue(granted);
      for (const [member, header] of mapped) {
        const value = claimOf(response, member);
        if (value !== undefined) headers[header] = claimHeaderValue(value);
      }
      if (hideCredentials) removeToken(ctx, source);
      const who = user ?? response.client_id;
      if (typeof who === 'string') ctx.consumer = who;
    }

    return {
      // Synchronous when the process holds the token's response (the hot path never waits).
      validateAccess(ctx) {
        const headers = ctx.upstreamHeaders;
        for (const name of cleared) delete headers[name]; // never trust the client's versions
        const token = extract(ctx);
        if (token === null) {
          if (config.anonymous !== undefined) return passAnonymous(ctx, config.anonymous);
          throw new UnauthorizedError('A bearer token is required', challenge);
        }
        const key = cache.keyOf(token);
        const held = cache.held(key);
        if (held !== undefined) return admit(ctx, held);
        return cache.lookup(token, introspect, key).then((response) => admit(ctx, response));
      },
    };
  }
}

/** Why a response does not let the token in, or null. Run on every request, cached or not. */
function responseProblems(
  config: OAuth2IntrospectionConfig,
): (response: IntrospectionResponse, nowSeconds: number) => string | null {
  const issuers = oneOrMany(config.requiredIssuer);
  const audiences = oneOrMany(config.requiredAudience);
  return (response, nowSeconds) => {
    if (response.active !== true) return 'The token is not active';
    // A refresh token is active too (Portcullis says `token_type`, Hydra `token_use`): never a key to the API.
    if (response.token_type === 'refresh_token' || response.token_use === 'refresh_token')
      return 'A refresh token is not an access token';
    if (typeof response.exp === 'number' && response.exp <= nowSeconds) return 'The token has expired';
    if (typeof response.nbf === 'number' && response.nbf > nowSeconds) return 'The token is not valid yet';
    if (issuers && !(typeof response.iss === 'string' && issuers.has(response.iss)))
      return 'The token issuer is not trusted';
    if (audiences) {
      const aud = response.aud;
      const named = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
      if (!named.some((a) => typeof a === 'string' && audiences.has(a)))
        return 'The token is not meant for this audience';
    }
    return null;
  };
}
