/**
 * `client-credentials` (global sink): the OAuth 2.0 client credentials grant for API keys, answered
 * by the gateway itself on matching hosts. Endpoints under `basePath`: `jwks.json`, `token`,
 * `token/introspect` (RFC 7662), `token/revoke` (RFC 7009); and RFC 8414 metadata at
 * `/.well-known/oauth-authorization-server`. Tokens are RFC 9068 JWTs signed by the key pair named
 * in the API key's `jwt-sign-keypair` metadata, else by `defaultKeyPair`. The issuer comes from
 * configuration (`issuer`, else the proxy's public URL), never from what a client sends, unless
 * `issuerFromHost` asks for it on the hosts matching `domain`. The endpoints and the grant are the
 * core's token authority (`core/oauth/`), configured in `service.ts`: one grant, the gateway JWT
 * format, no records.
 */
import type { Plugin, PluginSteps } from '../../core/plugin-api.js';
import {
  duration,
  grantedScope,
  NotFoundError,
  type ErrorDetail,
  KeyService,
  RevocationList,
  KEYPAIRS,
  type EntityReference,
  regexProblem,
  type BootConfig,
  type Metrics,
  type StateStore,
  type ClientDirectory,
} from '../../core/plugin-api.js';
import type { Logger } from 'pino';
import { ClientCredentialsConfigSchema, type ClientCredentialsConfig } from './schema.js';
import { METADATA_PATH, clientCredentialsService } from './service.js';

export { METADATA_PATH, grantedScope };

export class ClientCredentialsPlugin implements Plugin<typeof ClientCredentialsConfigSchema> {
  readonly id = 'client-credentials';
  readonly name = 'Client credentials service';
  readonly description =
    'OAuth 2.0 client credentials grant for API keys: token, introspection, revocation, JWKS and server metadata endpoints answered by the gateway.';
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

  constructor(
    keys: KeyService,
    clients: ClientDirectory,
    revocations: RevocationList,
    boot: BootConfig,
    state: StateStore,
    log: Logger,
    metrics: Metrics,
  ) {
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
    if (config.issuer !== undefined && !URL.canParse(config.issuer))
      problems.push({ path: '/issuer', message: 'Not a URL' });
    if (config.issuerFromHost && config.domain === '*')
      problems.push({
        path: '/issuerFromHost',
        message:
          'issuerFromHost needs a `domain` naming the hosts that may be issuers, not `*` (any client would pick its issuer)',
      });
    if (config.issuerFromHost && config.issuer !== undefined)
      problems.push({ path: '/issuer', message: 'Give either a fixed issuer or issuerFromHost, not both' });
    return problems;
  }

  references(config: ClientCredentialsConfig): EntityReference[] {
    return [{ kind: KEYPAIRS, id: config.defaultKeyPair, path: '/defaultKeyPair' }];
  }

  describe(config: ClientCredentialsConfig): string {
    return `Token endpoints at ${config.basePath} on ${config.domain === '*' ? 'any host' : config.domain}; tokens for ${duration(config.expiration / 1000)}${config.secure ? '; HTTPS only' : ''}`;
  }

  instantiate(config: ClientCredentialsConfig): PluginSteps {
    const hostMatches: (host: string) => boolean =
      config.domain === '*'
        ? () => true
        : (
            (re) => (host: string) =>
              re.test(host)
          )(new RegExp(`^(?:${config.domain})$`, 'i'));
    const prefix = `${config.basePath}/`;
    const endpoints = clientCredentialsService(config, {
      keys: this.#keys,
      clients: this.#clients,
      revocations: this.#revocations,
      boot: this.#boot,
      state: this.#state,
      log: this.#log,
      metrics: this.#metrics,
    });
    return {
      sink: {
        matches: (ctx) => (ctx.path === METADATA_PATH || ctx.path.startsWith(prefix)) && hostMatches(ctx.host),
        async handle(ctx) {
          const endpoint = endpoints.get(ctx.path);
          if (endpoint !== undefined) return endpoint(ctx);
          ctx.discardBody();
          throw new NotFoundError(`No OAuth endpoint at ${ctx.path}`);
        },
      },
    };
  }
}
