/**
 * `apikeys` (validateAccess + transformRequest): identifies the caller by an API key, checks it
 * (exists, enabled, not expired, secret, authorized for the route, quotas), then tells the upstream
 * who called. Unknown, disabled, expired keys and wrong secrets get the same answer.
 */
import type { IndexBuilder, Plugin, PluginSteps, InstanceScope, RequestContext } from '../../core/plugin-api.js';
import {
  headerValue,
  listOf,
  ForbiddenError,
  InvalidBearerTokenError,
  UnauthorizedError,
  KeyService,
  RevocationList,
  verifyGatewayToken,
} from '../../core/plugin-api.js';
import { ApiKeysConfigSchema, type ApiKeysConfig } from './schema.js';
import { compileExtractors, challenges, type Credential } from './extractors.js';
import { ApiKeyIndex, apiKeyIndexBuilder, isAuthorizedFor, type IndexedKey } from './key-index.js';
import { QuotaService, quotaLimits } from './quotas.js';
import type { ApiKey } from './entity.js';

declare module '../../core/plugin-api.js' {
  interface ContextAttributes {
    /** The API key that authenticated the request. */
    apikey?: ApiKey;
    /** How it was presented. */
    apikeyCredential?: Credential;
    /** The scopes of the call: the key's, or the token's when a bearer token was used. */
    apikeyScopes?: string;
  }
}

const NO_KEY = 'No API key provided';
const INVALID_KEY = 'Invalid API key';
const NOT_AUTHORIZED = 'This API key is not authorized for this route';

export class ApiKeysPlugin implements Plugin<typeof ApiKeysConfigSchema> {
  readonly id = 'apikeys';
  readonly name = 'API keys';
  readonly description =
    'Identifies clients by API key (Basic auth, id/secret headers, a bearer token from the client credentials service, or client id alone), checks enablement, expiry, route authorization and quotas, and sends consumer headers upstream.';
  readonly configSchema = ApiKeysConfigSchema;
  readonly steps = ['validateAccess', 'transformRequest'] as const;
  readonly indexes: readonly IndexBuilder[];
  readonly #keys: ApiKeyIndex;
  readonly #quotas: QuotaService;
  readonly #signingKeys: KeyService;
  readonly #revocations: RevocationList;

  constructor(keys: ApiKeyIndex, quotas: QuotaService, signingKeys: KeyService, revocations: RevocationList) {
    this.#keys = keys;
    this.#quotas = quotas;
    this.#signingKeys = signingKeys;
    this.#revocations = revocations;
    // A deleted key's quota windows are forgotten with it.
    this.indexes = [apiKeyIndexBuilder(keys, (clientId) => quotas.forget(clientId))];
  }

  describe(config: ApiKeysConfig): string {
    const { basic, customHeaders, clientId, jwt } = config.extractors;
    const ways = [
      basic.enabled && 'Basic',
      customHeaders.enabled && `${customHeaders.clientIdHeader}/-Secret headers`,
      clientId.enabled && 'client id alone',
      jwt.enabled && 'bearer JWT',
    ].filter((w): w is string => typeof w === 'string');
    return `API key by ${listOf(ways, 'or') || 'no extractor (refuses every key)'}; ${config.validate ? 'authorized for this route' : 'any valid key'}${config.mandatory ? '' : '; anonymous requests pass'}${config.hideCredentials ? '; credential hidden from the upstream' : ''}`;
  }

  instantiate(config: ApiKeysConfig, scope: InstanceScope): PluginSteps {
    const keys = this.#keys;
    const extractors = compileExtractors(config.extractors);
    const challenge = challenges(config.extractors);
    const unauthorized = (message: string) => new UnauthorizedError(message, challenge);
    const accept = acceptance(config, scope, this.#quotas);
    const acceptToken = tokenAcceptance(config, challenge, accept, {
      keys,
      signingKeys: this.#signingKeys,
      revocations: this.#revocations,
    });
    const mandatory = config.mandatory;
    return {
      validateAccess(ctx: RequestContext) {
        const credential = findCredential(extractors, ctx);
        if (credential === 'malformed') throw unauthorized(INVALID_KEY);
        if (credential === null) {
          if (!mandatory) return;
          throw unauthorized(NO_KEY);
        }
        if (credential.via === 'jwt') return acceptToken(ctx, credential);
        const indexed: IndexedKey | undefined = keys.get(credential.clientId);
        const secretOk =
          credential.secret !== undefined
            ? keys.secretMatches(credential.clientId, credential.secret, indexed)
            : indexed?.key.allowClientIdOnly === true;
        if (!indexed || !secretOk || indexed.key.enabled === false || Date.now() > indexed.validUntil)
          throw unauthorized(INVALID_KEY);
        return accept(ctx, indexed, credential, indexed.scopes);
      },

      transformRequest: consumerHeadersStep(config),
    };
  }
}

type Extractor = ReturnType<typeof compileExtractors>[number];

/** The first credential an extractor finds, in order; `malformed` stops the search. */
function findCredential(extractors: readonly Extractor[], ctx: RequestContext): Credential | 'malformed' | null {
  for (let i = 0; i < extractors.length; i++) {
    const found = extractors[i]!(ctx);
    if (found !== null) return found;
  }
  return null;
}

/** Who called, for the steps after this one and the upstream. */
function rememberCaller(ctx: RequestContext, indexed: IndexedKey, credential: Credential, scopes: string): void {
  ctx.attrs.apikey = indexed.key;
  ctx.attrs.apikeyCredential = credential;
  ctx.credentialHeaders = credential.headers;
  ctx.attrs.apikeyScopes = scopes;
  ctx.consumer = indexed.key.clientId;
}

type Accept = (
  ctx: RequestContext,
  indexed: IndexedKey,
  credential: Credential,
  scopes: string,
) => void | Promise<void>;

/**
 * The key is genuine: check the route and quotas, then remember who called. Synchronous for a key
 * without quota (the hot path never waits); a promise only when the state store decides.
 */
function acceptance(config: ApiKeysConfig, scope: InstanceScope, quotas: QuotaService): Accept {
  const { routeId, routeTags } = scope;
  const { validate, onStateError } = config;
  return (ctx, indexed, credential, scopes) => {
    if (validate && !isAuthorizedFor(indexed, routeId, routeTags)) throw new ForbiddenError(NOT_AUTHORIZED);
    const limits = quotaLimits(indexed.key);
    if (limits === null) return rememberCaller(ctx, indexed, credential, scopes);
    return quotas.consume(indexed.key.clientId, limits, onStateError).then((headers) => {
      for (const name in headers) ctx.addResponseHeader(name, headers[name]!);
      rememberCaller(ctx, indexed, credential, scopes);
    });
  };
}

/** A bearer token from the client credentials service stands for its API key. */
function tokenAcceptance(
  config: ApiKeysConfig,
  challenge: string,
  accept: Accept,
  sources: { keys: ApiKeyIndex; signingKeys: KeyService; revocations: RevocationList },
): (ctx: RequestContext, credential: Credential) => Promise<void> {
  const { keys, signingKeys, revocations } = sources;
  const acceptToken = async (ctx: RequestContext, credential: Credential): Promise<void> => {
    const result = await verifyGatewayToken(credential.token!, {
      keys: signingKeys,
      clients: keys,
      revocations,
      issuer: config.extractors.jwt.issuer,
    });
    if (!result.ok) throw new InvalidBearerTokenError(result.reason, 'portcullis', challenge);
    const indexed = keys.get(result.client.key.clientId);
    if (!indexed) throw new UnauthorizedError(INVALID_KEY, challenge);
    await accept(
      ctx,
      indexed,
      { ...credential, clientId: indexed.key.clientId },
      typeof result.payload.scope === 'string' ? result.payload.scope : '',
    );
  };
  return acceptToken;
}

/**
 * What the upstream learns of the caller: the consumer headers (the client's copies removed first)
 * and, with `hideCredentials`, the credential headers removed.
 */
function consumerHeadersStep(config: ApiKeysConfig): (ctx: RequestContext) => void {
  const consumer = config.consumerHeaders;
  const consumerNames = [consumer.clientId, consumer.name, consumer.scopes].map((h) => h.toLowerCase());
  return function transformRequest(ctx: RequestContext) {
    const headers = ctx.upstreamHeaders;
    // Whatever the client sent under these names is never trusted. Removed by assigning
    // undefined (undici and the authorizer's diff skip it): `delete` would turn the request's
    // header object into a slow dictionary for everything that reads it afterwards.
    for (let i = 0; i < consumerNames.length; i++)
      if (headers[consumerNames[i]!] !== undefined) headers[consumerNames[i]!] = undefined;
    const key = ctx.attrs.apikey;
    if (!key) return;
    if (config.hideCredentials) for (const name of ctx.attrs.apikeyCredential!.headers) headers[name] = undefined;
    if (consumer.enabled) {
      headers[consumerNames[0]!] = key.clientId;
      headers[consumerNames[1]!] = headerValue(key.clientName);
      headers[consumerNames[2]!] = ctx.attrs.apikeyScopes ?? '';
    }
  };
}
