/**
 * `client-credentials` (global sink): the OAuth 2.0 client credentials grant for API keys, answered
 * by the gateway itself on matching hosts. Endpoints under `basePath`: `jwks.json`, `token`,
 * `token/introspect` (RFC 7662), `token/revoke` (RFC 7009); and RFC 8414 metadata at
 * `/.well-known/oauth-authorization-server`. Tokens are RFC 9068 JWTs signed by the key pair named
 * in the API key's `jwt-sign-keypair` metadata, else by `defaultKeyPair`. The issuer comes from
 * configuration (`issuer`, else the proxy's public URL), never from what a client sends, unless
 * `issuerFromHost` asks for it on the hosts matching `domain`.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { inject, injectable } from 'tsyringe';
import type { Plugin, PluginSteps } from '../../core/plugin-api.js';
import { duration } from '../../core/plugin-api.js';
import type { RequestContext } from '../../core/plugin-api.js';
import { InvalidGrantError, InvalidRequestError, InvalidScopeError, NotFoundError, UnauthorizedClientError, UnsupportedGrantTypeError, type ErrorDetail } from '../../core/plugin-api.js';
import { KeyService, RevocationList, KEYPAIRS, type EntityReference } from '../../core/plugin-api.js';
import { regexProblem } from '../../core/plugin-api.js';
import { BOOT_CONFIG, LOGGER, METRICS, STATE_STORE, type BootConfig, type Metrics, type StateStore } from '../../core/plugin-api.js';
import { ClientAssertionVerifier, ASSERTION_SIGNING_ALGORITHMS, type ClientAuthentication } from '../../core/plugin-api.js';
import type { Logger } from 'pino';
import { CLIENT_DIRECTORY, JWT_SIGN_KEYPAIR, type ClientDirectory } from '../../core/plugin-api.js';
import { ClientCredentialsConfigSchema, type ClientCredentialsConfig } from './schema.js';
import { authenticateClient, readParams, requireMethod, requireParam, requireSecure, CLIENT_AUTH_PARAMS, NO_STORE } from '../../core/plugin-api.js';
import { grantLiveness, verifyGatewayToken } from '../../core/plugin-api.js';

export const METADATA_PATH = '/.well-known/oauth-authorization-server';
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** The parameters each endpoint reads; any other is ignored (RFC 6749 §3.2). */
const TOKEN_PARAMS: ReadonlySet<string> = new Set(['grant_type', 'scope', ...CLIENT_AUTH_PARAMS]);
const TOKEN_MANAGEMENT_PARAMS: ReadonlySet<string> = new Set(['token', 'token_type_hint', ...CLIENT_AUTH_PARAMS]);

@injectable()
export class ClientCredentialsPlugin implements Plugin<typeof ClientCredentialsConfigSchema> {
  readonly id = 'client-credentials';
  readonly name = 'Client credentials service';
  readonly description = 'OAuth 2.0 client credentials grant for API keys: token, introspection, revocation, JWKS and server metadata endpoints answered by the gateway.';
  readonly configSchema = ClientCredentialsConfigSchema;
  readonly steps = ['sink'] as const;
  readonly globalOnly = true;
  readonly #keys: KeyService;
  readonly #clients: ClientDirectory;
  readonly #revocations: RevocationList;
  readonly #boot: BootConfig;
  readonly #state: StateStore;
  readonly #log: Logger;
  readonly #metrics: Metrics;

  constructor(keys: KeyService, @inject(CLIENT_DIRECTORY) clients: ClientDirectory, revocations: RevocationList, @inject(BOOT_CONFIG) boot: BootConfig, @inject(STATE_STORE) state: StateStore, @inject(LOGGER) log: Logger, @inject(METRICS) metrics: Metrics) {
    this.#metrics = metrics;
    this.#keys = keys;
    this.#clients = clients;
    this.#revocations = revocations;
    this.#boot = boot;
    this.#state = state;
    this.#log = log;
  }

  checkConfig(config: ClientCredentialsConfig): ErrorDetail[] {
    const problems: ErrorDetail[] = [];
    if (config.domain !== '*') {
      const problem = regexProblem(config.domain);
      if (problem) problems.push({ path: '/domain', message: problem });
    }
    if (config.issuer !== undefined && !URL.canParse(config.issuer)) problems.push({ path: '/issuer', message: 'Not a URL' });
    if (config.issuerFromHost && config.domain === '*') problems.push({ path: '/issuerFromHost', message: 'issuerFromHost needs a `domain` naming the hosts that may be issuers, not `*` (any client would pick its issuer)' });
    if (config.issuerFromHost && config.issuer !== undefined) problems.push({ path: '/issuer', message: 'Give either a fixed issuer or issuerFromHost, not both' });
    return problems;
  }

  references(config: ClientCredentialsConfig): EntityReference[] {
    return [{ kind: KEYPAIRS, id: config.defaultKeyPair, path: '/defaultKeyPair' }];
  }

  describe(config: ClientCredentialsConfig): string {
    return `Token endpoints at ${config.basePath} on ${config.domain === '*' ? 'any host' : config.domain}; tokens for ${duration(config.expiration / 1000)}${config.secure ? '; HTTPS only' : ''}`;
  }

  instantiate(config: ClientCredentialsConfig): PluginSteps {
    const keys = this.#keys;
    const clients = this.#clients;
    const revocations = this.#revocations;
    const log = this.#log;
    const metrics = this.#metrics;
    const id = this.id;
    const hostMatches: (host: string) => boolean = config.domain === '*' ? () => true : ((re) => (host: string) => re.test(host))(new RegExp(`^(?:${config.domain})$`, 'i'));
    const base = config.basePath;
    const prefix = `${base}/`;
    const paths = { jwks: `${base}/jwks.json`, token: `${base}/token`, introspect: `${base}/token/introspect`, revoke: `${base}/token/revoke` };
    const ttlSeconds = Math.floor(config.expiration / 1000);
    const boot = this.#boot;
    // Read per request: the default public URL is only known once the proxy listens.
    const configuredIssuer = () => withoutTrailingSlash(config.issuer ?? boot.proxy.publicUrl ?? `http://${boot.proxy.host}:${boot.proxy.port}`);
    // The sink only answers hosts matching `domain` (never `*` here, see checkConfig), so a client
    // can only pick among the issuers the operator listed.
    const issuerOf: (ctx: RequestContext) => string = config.issuerFromHost ? hostIssuer : configuredIssuer;
    /** Where the endpoints are published: under the issuer's origin. */
    const originOf = config.issuerFromHost ? hostIssuer : () => new URL(configuredIssuer()).origin;
    const verifyOptions = { issuer: config.issuer, keys, clients, revocations };
    const auth: ClientAuthentication = { clients, assertions: new ClientAssertionVerifier({ clients, state: this.#state, log: this.#log }, config.clientAssertion) };

    /** The first steps of every client-authenticated endpoint: POST, transport, body, client. */
    async function authenticatedPost(ctx: RequestContext, known: ReadonlySet<string>) {
      requireMethod(ctx, ['POST']);
      requireSecure(ctx, config.secure);
      const params = await readParams(ctx.req, known);
      // RFC 7523 §3: an assertion is addressed to the token endpoint or the issuer; the endpoint
      // receiving it (introspection, revocation) is accepted too, as real clients send either.
      const origin = originOf(ctx);
      const client = await authenticateClient(ctx.req, params, auth, { audiences: [origin + paths.token, issuerOf(ctx), origin + ctx.path] });
      ctx.consumer = client.key.key.clientId;
      return { params, client };
    }

    /** POST …/token: grant_type=client_credentials. */
    async function token(ctx: RequestContext): Promise<void> {
      const { params, client } = await authenticatedPost(ctx, TOKEN_PARAMS);
      const grantType = requireParam(params, 'grant_type');
      if (grantType !== 'client_credentials') throw new UnsupportedGrantTypeError(`The grant type "${grantType}" is not supported; use client_credentials`);
      const scope = grantedScope(params.get('scope'), client.key.key.scopes ?? []);
      const keyPairId = client.key.key.metadata?.[JWT_SIGN_KEYPAIR] ?? config.defaultKeyPair;
      if (!keys.has(keyPairId)) throw new UnauthorizedClientError(`The key pair "${keyPairId}" configured for this client does not exist`);
      const issuer = issuerOf(ctx);
      const clientId = client.key.key.clientId;
      // Right after a revocation of all its tokens, a client's new token must come after the
      // cut-off (one-second resolution of iat): wait for it, at most a second (an imported cut-off
      // further ahead is not waited for).
      const wait = revocations.clientNotBefore(clientId) * 1000 - Date.now();
      if (wait > 0 && wait <= 1000) await delay(wait);
      const now = Math.floor(Date.now() / 1000);
      // No token leaves dead: a cut-off further ahead than the wait (an imported one) refuses the grant.
      const fresh = grantLiveness({ clientId, iat: now }, { clients, revocations });
      if (!fresh.alive) throw new InvalidGrantError(fresh.message);
      const accessToken = await keys.sign(keyPairId, {
        iss: issuer, sub: clientId, aud: config.audience ?? issuer, client_id: clientId,
        iat: now, exp: now + ttlSeconds, jti: randomUUID(), ...(scope ? { scope } : {}),
      }, 'at+jwt');
      ctx.respond(200, { access_token: accessToken, token_type: 'Bearer', expires_in: ttlSeconds, ...(scope ? { scope } : {}) }, NO_STORE);
      metrics.tokenIssued(id, grantType);
    }

    /** POST …/token/introspect (RFC 7662): active with claims, or `{"active": false}`. */
    async function introspect(ctx: RequestContext): Promise<void> {
      const { params } = await authenticatedPost(ctx, TOKEN_MANAGEMENT_PARAMS);
      const result = await verifyGatewayToken(requireParam(params, 'token'), verifyOptions);
      metrics.tokenIntrospected(id, result.ok);
      if (!result.ok) return ctx.respond(200, { active: false }, NO_STORE);
      const { payload } = result;
      ctx.respond(200, {
        active: true, scope: payload.scope, client_id: payload.client_id, sub: payload.sub, aud: payload.aud, iss: payload.iss,
        exp: payload.exp, iat: payload.iat, jti: payload.jti, token_type: 'Bearer',
      }, NO_STORE);
    }

    /**
     * POST …/token/revoke (RFC 7009): a client revokes its own live tokens. An unknown, dead or
     * another client's token is answered alike (§2.2), untouched: a different answer would tell
     * whether another client's token is live.
     */
    async function revoke(ctx: RequestContext): Promise<void> {
      const { params, client } = await authenticatedPost(ctx, TOKEN_MANAGEMENT_PARAMS);
      const hint = params.get('token_type_hint');
      if (hint !== undefined && hint !== 'access_token' && hint !== 'refresh_token') throw new InvalidRequestError('token_type_hint must be access_token or refresh_token');
      const result = await verifyGatewayToken(requireParam(params, 'token'), verifyOptions);
      if (result.ok && result.payload.client_id !== client.key.key.clientId) {
        log.debug({ clientId: client.key.key.clientId, owner: result.payload.client_id }, 'revocation of another client\'s token ignored');
      } else if (result.ok) {
        await revocations.revoke(String(result.payload.jti), client.key.key.clientId, Number(result.payload.exp));
      }
      ctx.respond(200, undefined, NO_STORE);
      metrics.tokenRevoked(id);
    }

    function jwks(ctx: RequestContext): void {
      requireMethod(ctx, ['GET', 'HEAD']);
      ctx.respond(200, keys.jwksJson(), { 'content-type': 'application/jwk-set+json', 'cache-control': `public, max-age=${config.jwksMaxAgeSeconds}` });
    }

    function metadata(ctx: RequestContext): void {
      requireMethod(ctx, ['GET', 'HEAD']);
      const issuer = issuerOf(ctx);
      const origin = originOf(ctx);
      const methods = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];
      const algorithms = [...ASSERTION_SIGNING_ALGORITHMS];
      ctx.respond(200, {
        issuer,
        token_endpoint: origin + paths.token,
        jwks_uri: origin + paths.jwks,
        introspection_endpoint: origin + paths.introspect,
        revocation_endpoint: origin + paths.revoke,
        grant_types_supported: ['client_credentials'],
        response_types_supported: [],
        token_endpoint_auth_methods_supported: methods,
        token_endpoint_auth_signing_alg_values_supported: algorithms,
        introspection_endpoint_auth_methods_supported: methods,
        introspection_endpoint_auth_signing_alg_values_supported: algorithms,
        revocation_endpoint_auth_methods_supported: methods,
        revocation_endpoint_auth_signing_alg_values_supported: algorithms,
      }, {
        'cache-control': `public, max-age=${config.jwksMaxAgeSeconds}`,
        // A shared cache must not serve one host's document to another.
        ...(config.issuerFromHost ? { vary: 'Host' } : {}),
      });
    }

    return {
      sink: {
        matches: (ctx) => (ctx.path === METADATA_PATH || ctx.path.startsWith(prefix)) && hostMatches(ctx.host),
        async handle(ctx) {
          switch (ctx.path) {
            case paths.token: return token(ctx);
            case paths.introspect: return introspect(ctx);
            case paths.revoke: return revoke(ctx);
            case paths.jwks: return jwks(ctx);
            case METADATA_PATH: return metadata(ctx);
            default:
              ctx.req.resume();
              throw new NotFoundError(`No OAuth endpoint at ${ctx.path}`);
          }
        },
      },
    };
  }
}

/**
 * The issuer of a request in `issuerFromHost` mode: `<scheme>://<host>[:<port>]`, where host is the
 * request's host name (lower-cased, already matched by `domain`) and port the Host header's port
 * when it is a valid one other than the scheme's default.
 */
function hostIssuer(ctx: RequestContext): string {
  const header = ctx.req.headers.host ?? '';
  const port = /:(\d{1,5})$/.exec(header.startsWith('[') ? header.slice(header.indexOf(']')) : header)?.[1];
  const portNumber = port === undefined ? 0 : Number(port);
  const defaultPort = ctx.scheme === 'https' ? 443 : 80;
  const suffix = portNumber > 0 && portNumber <= 65535 && portNumber !== defaultPort ? `:${portNumber}` : '';
  return `${ctx.scheme}://${ctx.host}${suffix}`;
}

function withoutTrailingSlash(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}

/** The scope granted: what was asked, each within the key's scopes; all of them when none was asked. */
export function grantedScope(requested: string | undefined, allowed: readonly string[]): string {
  if (requested === undefined) return allowed.join(' ');
  const asked = requested.split(' ').filter(Boolean);
  if (asked.length === 0 || asked.some((s) => !SCOPE_TOKEN.test(s))) throw new InvalidScopeError('The scope parameter is malformed');
  const outside = asked.filter((s) => !allowed.includes(s));
  if (outside.length > 0) throw new InvalidScopeError(`Scope not allowed for this client: ${outside.join(' ')}`);
  return [...new Set(asked)].join(' ');
}
