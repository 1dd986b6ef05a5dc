/**
 * The `oauth2` route's protected paths (RFC 6750): every path that is not an endpoint needs a
 * bearer token the route (or, with `globalCredentials`, a peer) issued, alive by `grantLiveness`,
 * with the scopes its rule asks; the upstream is told who the client and user are. Built once per
 * instance: the request function allocates nothing it could have made before.
 */
import type {
  RequestContext,
  ClientDirectory,
  GrantSources,
  JwtAccessTokens,
  StoredToken,
  TransportRule,
} from '../../core/plugin-api.js';
import {
  InvalidBearerTokenError,
  UnauthorizedError,
  bearerChallenge,
  compileRules,
  findRule,
  grantsRule,
  headerValue,
  insufficientScope,
  scopeMatcher,
  grantLiveness,
  looksLikeJwt,
  storedGrant,
} from '../../core/plugin-api.js';
import { passAnonymously } from './anonymous.js';
import type { OAuth2Config } from './schema.js';
import type { GrantStore } from './grant-store.js';

/** Headers the upstream gets from the gateway only: any client-sent copy is removed first. */
const USER_HEADERS = [
  'x-consumer-id',
  'x-consumer-username',
  'x-authenticated-userid',
  'x-authenticated-scope',
  'x-anonymous-consumer',
] as const;

export interface ProtectOptions {
  config: OAuth2Config;
  clients: ClientDirectory;
  sources: GrantSources;
  records: GrantStore;
  transport: TransportRule;
  jwts: JwtAccessTokens;
  routeKey: string;
  caseSensitive: boolean;
}

export function protectedRoute(options: ProtectOptions): (ctx: RequestContext) => void | Promise<void> {
  const { config, clients, sources, records, transport: requireSecure, jwts, routeKey } = options;
  const realm = config.realm;
  // The core's access rules (as jwt-verifier's), every scope of the rule required, exact match.
  const scopeRules = compileRules(
    config.scopeRules.map((rule) => ({
      methods: rule.methods,
      path: rule.path,
      requiredScopes: rule.scopes,
      match: 'all' as const,
    })),
    options.caseSensitive,
  );
  const exactScopes = scopeMatcher('exact');

  /** A bearer token as found: a JWT verified locally (whatever this route issues: a globalCredentials peer may issue them), an opaque one read from the store. */
  async function accessToken(value: string): Promise<StoredToken | undefined> {
    if (!looksLikeJwt(value)) return value === '' ? undefined : records.findToken('at', value);
    const checked = await jwts.verify(value);
    if (!checked.ok) throw new InvalidBearerTokenError(checked.reason, realm);
    return checked;
  }

  /** A found token with its liveness: refused, or let through with who called. */
  function admit(
    ctx: RequestContext,
    found: StoredToken | undefined,
    verdict: ReturnType<typeof grantLiveness> | undefined,
    rule: ReturnType<typeof findRule>,
  ): void {
    if (!found || !verdict || found.record.routeKey !== routeKey)
      throw new InvalidBearerTokenError('The access token is unknown, expired or revoked', realm);
    if (!verdict.alive) throw new InvalidBearerTokenError(verdict.message, realm);
    const { record } = found;
    const client = verdict.client;
    if (rule && !grantsRule(rule, record.scope.split(' ').filter(Boolean), exactScopes))
      throw insufficientScope(rule, realm);
    const headers = ctx.upstreamHeaders;
    for (const name of USER_HEADERS) delete headers[name];
    if (config.hideCredentials) delete headers.authorization;
    headers['x-consumer-id'] = client.key.clientId;
    headers['x-consumer-username'] = headerValue(client.key.clientName);
    // Ids refused at authorize since issue 21; grants made before may still hold one.
    if (record.userId !== null) headers['x-authenticated-userid'] = headerValue(record.userId);
    if (record.scope) headers['x-authenticated-scope'] = record.scope;
    ctx.consumer = client.key.clientId;
  }

  // Synchronous when the process holds the opaque token (the hot path never waits).
  function protect(ctx: RequestContext): void | Promise<void> {
    requireSecure(ctx);
    const header = ctx.headers.authorization;
    // A request no rule matches needs a valid token only (unlike jwt-verifier's deny by default).
    const rule = findRule(scopeRules, ctx.method, ctx.routePath);
    if (header === undefined || !/^bearer /i.test(header)) {
      for (const name of USER_HEADERS) delete ctx.upstreamHeaders[name];
      // Anonymous access stops where a scope is required: that takes a token.
      if (!rule && passAnonymously(ctx, clients, config.anonymous)) return;
      throw new UnauthorizedError('A bearer token is required', bearerChallenge(realm));
    }
    const value = header.slice(7).trim();
    const held = looksLikeJwt(value) ? undefined : records.heldAccessToken(value);
    if (held !== undefined) return admit(ctx, held, grantLiveness(storedGrant(held), sources), rule);
    return accessToken(value).then((found) =>
      admit(ctx, found, found && grantLiveness(storedGrant(found), sources), rule),
    );
  }
  return protect;
}
