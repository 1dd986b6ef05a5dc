/**
 * The access-request lifecycle: creating a request (with its API key, disabled), and its
 * transitions `pending → approved | rejected`, `approved → revoked`.
 *
 * A transition is decided by one compare-and-set write of the request (the version read, the new
 * state and the audit event in the same write): of two managers deciding at once exactly one
 * write lands, and the other gets 409 `invalid_transition` naming the state the winner left. Only
 * the winner then changes the API key; should that fail (a route of the profile deleted meanwhile),
 * the request is put back in its previous state with a second audit event saying why, and the
 * error is answered. The API key is written through the EntityService, like any admin write: this
 * module never imports the `apikeys` plugin.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  ConflictError,
  ForbiddenTransitionError,
  GatewayError,
  JWKS_URI_PUBLIC_ONLY,
  ValidationError,
  BadRequestError,
  jwksUriProblem,
  jwksHostAllowed,
  type AdminCaller,
  type ApiKeyIssuer,
  type BootConfig,
  type NewApiKey,
  type RevocationList,
  type ErrorDetail,
} from '../../core/plugin-api.js';
import {
  ACCESS_REQUEST_KIND,
  profileAllows,
  type AccessRequest,
  type AccessRequestKinds,
  type AuditEvent,
  type AuthorizationProfile,
  type ClientAuthentication,
  type Quotas,
  type RequestState,
} from './entity.js';
import type { WebhookDispatcher } from './webhooks.js';

export type Decision = 'approve' | 'reject' | 'revoke';

/** The state machine: each decision, the one state it applies to and the state it leaves. */
export const TRANSITIONS: Readonly<Record<Decision, { from: RequestState; to: RequestState }>> = {
  approve: { from: 'pending', to: 'approved' },
  reject: { from: 'pending', to: 'rejected' },
  revoke: { from: 'approved', to: 'revoked' },
};

/** What an approver may set; anything absent comes from the request and the profile. */
export interface DecisionInput {
  reason?: string;
  /** Approve: the scopes granted (within the profile); default the requested ones. */
  scopes?: string[];
  /** Approve: quotas over the profile's defaults. */
  quotas?: Quotas;
}

/** A request as created, with the client secret shown this once (client-secret profiles). */
export interface CreatedRequest {
  request: AccessRequest;
  clientId: string;
  clientSecret?: string;
}

/** How a caller is named in the audit trail. */
export function actorOf(caller: AdminCaller): string {
  return caller.kind === 'admin' ? 'admin' : `token:${caller.tokenId}`;
}

const SERVER_FIELDS = [
  'id',
  'state',
  'grantedScopes',
  'quotas',
  'decidedBy',
  'decidedAt',
  'reason',
  'apiKeyId',
  'createdBy',
  'history',
  'clientAuthentication',
  'version',
  'createdAt',
  'updatedAt',
];

export class AccessRequestService {
  readonly #kinds: AccessRequestKinds;
  readonly #keys: ApiKeyIssuer;
  readonly #revocations: RevocationList;
  readonly #webhooks: WebhookDispatcher;
  readonly #privateJwksHosts: readonly string[];

  constructor(
    kinds: AccessRequestKinds,
    keys: ApiKeyIssuer,
    revocations: RevocationList,
    webhooks: WebhookDispatcher,
    boot: Readonly<BootConfig>,
  ) {
    this.#kinds = kinds;
    this.#keys = keys;
    this.#revocations = revocations;
    this.#webhooks = webhooks;
    this.#privateJwksHosts = boot.portal.privateJwksHosts;
  }

  /**
   * Create a pending request and its API key, disabled (no routes, no scopes) until approved. The
   * key's client secret is generated here and returned in this answer only (client-secret profiles):
   * the portal hands it to the requester, and it works once a manager approves.
   */
  async create(input: unknown, caller: AdminCaller): Promise<CreatedRequest> {
    if (typeof input !== 'object' || input === null || Array.isArray(input))
      throw new BadRequestError('The access request must be a JSON object');
    const body = { ...(input as Record<string, unknown>) };
    const { jwksUri, publicKey } = body;
    delete body.jwksUri;
    delete body.publicKey;
    const refused = SERVER_FIELDS.filter((f) => Object.hasOwn(body, f) && f !== 'version');
    if (refused.length > 0)
      throw new ValidationError(
        'Invalid access request',
        refused.map((f) => ({ path: `/${f}`, message: 'Set by the gateway, not by the requester' })),
      );
    let profile: AuthorizationProfile;
    try {
      profile = this.#kinds.profiles.get(String(body.profileId));
    } catch {
      throw new ValidationError('Invalid access request', [
        { path: '/profileId', message: `No authorization profile with id ${JSON.stringify(body.profileId)}` },
      ]);
    }

    const id = randomUUID();
    const actor = actorOf(caller);
    const draft = {
      ...body,
      id,
      clientAuthentication: clientAuthenticationFor(profile, jwksUri, publicKey),
      state: 'pending',
      createdBy: actor,
      history: [{ at: new Date().toISOString(), actor, from: null, to: 'pending' }],
    };
    // Validated before the key exists, so that a refused request leaves nothing behind.
    const request = ACCESS_REQUEST_KIND.validator.parse(draft, 'access request') as AccessRequest;
    const problems = scopeProblems(profile, request.requestedScopes, '/requestedScopes');
    if (profile.flow === 'authorization-code' && request.redirectUris.length === 0)
      problems.push({
        path: '/redirectUris',
        message: 'An authorization-code profile needs at least one redirect URI',
      });
    if (problems.length > 0) throw new ValidationError('Invalid access request', problems);
    const publicKeysOnly = await this.#checkPortalJwksUri(request, caller);

    const clientSecret = randomBytes(32).toString('base64url');
    const clientId = await this.#keys.issue(
      this.#newKey(profile, request, clientSecret, publicKeysOnly ? actor : undefined),
    );
    let created: AccessRequest;
    try {
      created = await this.#kinds.requests.create({ ...request, apiKeyId: clientId });
    } catch (error) {
      await this.#keys.delete(clientId).catch(() => {});
      throw error;
    }
    await this.#notify(profile, created, created.history[0]!);
    return { request: created, clientId, ...(profile.clientAuthenticator === 'client-secret' ? { clientSecret } : {}) };
  }

  /** Apply a decision; 409 `invalid_transition` when the request's state does not allow it. */
  async decide(id: string, decision: Decision, input: DecisionInput, caller: AdminCaller): Promise<AccessRequest> {
    const current = this.#kinds.requests.get(id);
    const { from, to } = TRANSITIONS[decision];
    if (current.state !== from) throw forbidden(decision, current);
    const profile = this.#kinds.profiles.get(current.profileId);
    const actor = actorOf(caller);
    const at = new Date().toISOString();
    const event: AuditEvent = { at, actor, from, to, ...(input.reason === undefined ? {} : { reason: input.reason }) };
    const next: Record<string, unknown> = { ...current, state: to, history: [...current.history, event] };
    if (decision !== 'revoke')
      Object.assign(next, {
        decidedBy: actor,
        decidedAt: at,
        ...(input.reason === undefined ? {} : { reason: input.reason }),
      });
    if (decision === 'approve') {
      const granted = input.scopes ?? current.requestedScopes;
      const problems = scopeProblems(profile, granted, '/scopes');
      if (problems.length > 0) throw new ValidationError('Invalid approval', problems);
      next.grantedScopes = granted;
      next.quotas = { ...profile.quotas, ...input.quotas };
    }
    const deletesKey = decision === 'reject' && profile.onReject === 'delete';
    if (deletesKey) delete next.apiKeyId;

    const decided = await this.#commit(current, next, decision);
    try {
      await this.#applyToKey(decision, current.apiKeyId, decided, profile, deletesKey);
    } catch (error) {
      await this.#rollBack(current, decided, actor, error);
      throw error;
    }
    await this.#notify(profile, decided, event);
    return decided;
  }

  /** The compare-and-set write that decides: a concurrent decision makes it fail with 409. */
  async #commit(current: AccessRequest, next: Record<string, unknown>, decision: Decision): Promise<AccessRequest> {
    try {
      return await this.#kinds.requests.update(current.id, { ...next, version: current.version });
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      throw forbidden(decision, this.#kinds.requests.get(current.id));
    }
  }

  async #applyToKey(
    decision: Decision,
    apiKeyId: string | undefined,
    request: AccessRequest,
    profile: AuthorizationProfile,
    deletesKey: boolean,
  ): Promise<void> {
    if (apiKeyId === undefined) return;
    if (deletesKey) {
      await this.#keys.delete(apiKeyId);
      return;
    }
    if (decision === 'approve') {
      const quotas = request.quotas ?? {};
      await this.#keys.grant(apiKeyId, {
        scopes: request.grantedScopes ?? [],
        authorizedEntities: profile.authorizedEntities,
        throttlingQuota: quotas.throttlingQuota ?? null,
        dailyQuota: quotas.dailyQuota ?? null,
        monthlyQuota: quotas.monthlyQuota ?? null,
      });
      return;
    }
    await this.#keys.disable(apiKeyId);
    // Tokens issued while it was approved die with the approval, wherever they are checked.
    if (decision === 'revoke') await this.#revocations.revokeClientTokens(apiKeyId);
  }

  /** Put the request back as it was, saying why in its trail; the original error is what the caller sees. */
  async #rollBack(previous: AccessRequest, decided: AccessRequest, actor: string, error: unknown): Promise<void> {
    const why = error instanceof GatewayError ? error.message : 'an internal error';
    const event: AuditEvent = {
      at: new Date().toISOString(),
      actor,
      from: decided.state,
      to: previous.state,
      reason: `Rolled back: the API key could not be changed (${why})`.slice(0, 2000),
    };
    await this.#kinds.requests.update(previous.id, {
      ...previous,
      history: [...decided.history, event],
      version: decided.version,
    });
  }

  /** The webhook delivery is recorded before the answer; a state store that cannot take it does not undo the decision. */
  async #notify(profile: AuthorizationProfile, request: AccessRequest, event: AuditEvent): Promise<void> {
    const type = event.from === null ? 'access_request.created' : `access_request.${event.to}`;
    await this.#webhooks.enqueue(profile, request.id, type, { request, event }).catch(() => undefined);
  }

  /**
   * A JWKS URL from an API token (a portal, not the admin) must not make the gateway fetch an
   * internal address (SSRF): refused unless https and public, or a host the operator allows
   * (`portal.privateJwksHosts`). Returns whether the key set must then be fetched from public
   * addresses only (the API key is marked so; checked again on every fetch, DNS rebinding included).
   */
  async #checkPortalJwksUri(request: AccessRequest, caller: AdminCaller): Promise<boolean> {
    const jwksUri = request.clientAuthentication.jwksUri;
    if (caller.kind === 'admin' || jwksUri === undefined) return false;
    if (URL.canParse(jwksUri) && jwksHostAllowed(new URL(jwksUri), this.#privateJwksHosts)) return false;
    const problem = await jwksUriProblem(jwksUri, this.#privateJwksHosts);
    if (problem !== null) throw new ValidationError('Invalid access request', [{ path: '/jwksUri', message: problem }]);
    return true;
  }

  #newKey(
    profile: AuthorizationProfile,
    request: AccessRequest,
    clientSecret: string,
    publicKeysOnlyFor?: string,
  ): NewApiKey {
    const auth = request.clientAuthentication;
    // A client that signs assertions has no secret at all: apikeys refuses one beside private_key_jwt.
    const signsAssertions = auth.method === 'private_key_jwt';
    return {
      ...(signsAssertions ? { tokenEndpointAuthMethod: 'private_key_jwt' } : { clientSecret }),
      clientName: request.requester.name,
      description: `Access request ${request.id} (authorization profile "${profile.name}")`,
      enabled: false,
      authorizedEntities: [],
      scopes: [],
      tags: ['access-request'],
      metadata: {
        'access-request': request.id,
        'authorization-profile': profile.id,
        ...(publicKeysOnlyFor === undefined ? {} : { [JWKS_URI_PUBLIC_ONLY]: publicKeysOnlyFor }),
      },
      grantTypes:
        profile.flow === 'client-credentials' ? ['client_credentials'] : ['authorization_code', 'refresh_token'],
      ...(profile.flow === 'authorization-code' ? { redirectUris: request.redirectUris } : {}),
      ...(auth.jwksUri !== undefined ? { jwksUri: auth.jwksUri } : {}),
      ...(auth.publicKey !== undefined ? { jwks: registeredKeys(auth.publicKey) } : {}),
    };
  }
}

/** The requester's public key as the API key's `jwks`: a JWK Set, a single JWK wrapped in one, or PEM as is. */
function registeredKeys(publicKey: string): unknown {
  const text = publicKey.trim();
  if (!text.startsWith('{')) return text;
  try {
    const parsed = JSON.parse(text) as { keys?: unknown };
    return Array.isArray(parsed.keys) ? parsed : { keys: [parsed] };
  } catch {
    // Not JSON after all: the API key's own validation names the problem.
    return text;
  }
}

function forbidden(decision: Decision, request: AccessRequest): ForbiddenTransitionError {
  const by = request.decidedBy === undefined ? '' : ` (decided by ${request.decidedBy} at ${request.decidedAt})`;
  return new ForbiddenTransitionError(
    `Cannot ${decision} the access request "${request.id}": it is ${request.state}${by}; only a ${TRANSITIONS[decision].from} request can be ${TRANSITIONS[decision].to}`,
  );
}

function scopeProblems(profile: AuthorizationProfile, scopes: readonly string[], path: string): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  scopes.forEach((scope, i) => {
    if (typeof scope !== 'string' || !profileAllows(profile.scopes, scope))
      problems.push({
        path: `${path}/${i}`,
        message: `The authorization profile "${profile.id}" does not offer the scope ${JSON.stringify(scope)}`,
      });
  });
  return problems;
}

/** The profile's client authenticator as the API key's token endpoint method, with the key material the request gives. */
function clientAuthenticationFor(
  profile: AuthorizationProfile,
  jwksUri: unknown,
  publicKey: unknown,
): ClientAuthentication | Record<string, unknown> {
  switch (profile.clientAuthenticator) {
    case 'client-secret':
      return { method: 'client_secret_basic' };
    case 'private-key-jwt-jwks-uri':
      if (jwksUri === undefined)
        throw new ValidationError('Invalid access request', [
          {
            path: '/jwksUri',
            message: 'This profile authenticates clients by signed assertions: give the URL of your JWKS',
          },
        ]);
      return { method: 'private_key_jwt', jwksUri };
    case 'private-key-jwt-registered-key':
      if (publicKey === undefined)
        throw new ValidationError('Invalid access request', [
          {
            path: '/publicKey',
            message: 'This profile authenticates clients by signed assertions: give your public key (PEM or JWK)',
          },
        ]);
      return { method: 'private_key_jwt', publicKey };
  }
}
