/**
 * The two entities of the access-request lifecycle: an `AuthorizationProfile` (what a product
 * offers: flow, client authentication, scopes, routes, default quotas, a webhook) and an
 * `AccessRequest` (who asks for which scopes under which profile, the decision, its API key and
 * the audit trail of its transitions). Both live in the configuration store: they are low-churn
 * records that name configuration (routes, API keys) and must survive anything the gateway does.
 */
import { Type, type Static } from '@sinclair/typebox';
import {
  DateTime,
  defineEntityKind,
  EntityId,
  EntityMeta,
  MAX_LIST_ITEMS,
  ROUTES,
  type EntityHooks,
  type EntityReference,
  type ExportOptions,
  type StoredEntity,
  CLIENT_KIND,
  type EntityHandle,
} from '../../core/plugin-api.js';

export const PROFILES = 'authorization-profiles';
export const ACCESS_REQUESTS = 'access-requests';

/** An OAuth2 scope token (RFC 6749 §3.3), as API keys store them. */
const SCOPE = Type.String({ pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$', maxLength: 200 });
const AUTHORIZED_ENTITY = Type.String({ pattern: '^(tag:.+|[A-Za-z0-9][A-Za-z0-9._~-]{0,127})$', maxLength: 200 });
const QUOTA = (max: number, description: string) =>
  Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: max }), Type.Null()], { description }));

/** The API keys' quota fields, same names and bounds. */
export const QuotasSchema = Type.Object(
  {
    throttlingQuota: { title: 'Throttling quota', ...QUOTA(1_000_000_000, 'Calls per second; absent: unlimited.') },
    dailyQuota: { title: 'Daily quota', ...QUOTA(Number.MAX_SAFE_INTEGER, 'Calls per UTC day; absent: unlimited.') },
    monthlyQuota: {
      title: 'Monthly quota',
      ...QUOTA(Number.MAX_SAFE_INTEGER, 'Calls per UTC month; absent: unlimited.'),
    },
  },
  { additionalProperties: false, default: {} },
);
export type Quotas = Static<typeof QuotasSchema>;

export const CLIENT_AUTHENTICATORS = [
  'client-secret',
  'private-key-jwt-jwks-uri',
  'private-key-jwt-registered-key',
] as const;
export type ClientAuthenticator = (typeof CLIENT_AUTHENTICATORS)[number];

export const WebhookSchema = Type.Object(
  {
    url: Type.String({
      title: 'URL',
      pattern: '^https?://[^\\s/?#]+(/[^\\s#]*)?$',
      maxLength: 2000,
      description: 'Receives a signed JSON POST on every transition of a request under this profile.',
    }),
    secret: Type.Optional(
      Type.String({
        title: 'Secret',
        writeOnly: true,
        minLength: 16,
        maxLength: 512,
        description:
          'Write-only: the HMAC-SHA256 key of `X-Portcullis-Signature`. Stored (the signature needs it), never returned; a write without it keeps the current one.',
      }),
    ),
    maxAttempts: Type.Integer({
      title: 'Max attempts',
      minimum: 1,
      maximum: 20,
      default: 8,
      description: 'Attempts per delivery, the first included; then it is marked failed.',
    }),
    initialBackoffMs: Type.Integer({
      title: 'Initial backoff (ms)',
      minimum: 1,
      maximum: 3_600_000,
      default: 1000,
      description: 'Wait before the second attempt; doubled after each failure.',
    }),
    maxBackoffMs: Type.Integer({
      title: 'Max backoff (ms)',
      minimum: 1,
      maximum: 86_400_000,
      default: 3_600_000,
      description: 'Longest wait between two attempts.',
    }),
  },
  { additionalProperties: false },
);
export type Webhook = Static<typeof WebhookSchema>;

export const AuthorizationProfileSchema = Type.Object(
  {
    id: { title: 'ID', ...EntityId },
    name: Type.String({ title: 'Name', minLength: 1, maxLength: 200, pattern: '^[^\\x00-\\x1f\\x7f]+$' }),
    description: Type.String({ title: 'Description', default: '', maxLength: 2000 }),
    flow: Type.Union([Type.Literal('client-credentials'), Type.Literal('authorization-code')], {
      title: 'Flow',
      default: 'client-credentials',
      description:
        'The OAuth2 grant the credential is for (`authorization-code`: the `oauth2` plugin; requests then give redirect URIs).',
    }),
    clientAuthenticator: Type.Union(
      CLIENT_AUTHENTICATORS.map((a) => Type.Literal(a)),
      {
        title: 'Client authenticator',
        default: 'client-secret',
        description:
          'How the client authenticates at the token endpoint: a client secret, or a signed JWT assertion (RFC 7523) checked with the JWKS URL or the public key the request gives.',
      },
    ),
    scopes: Type.Array(SCOPE, {
      title: 'Scopes',
      default: [],
      maxItems: MAX_LIST_ITEMS,
      description: 'Scopes a request may ask for; `Function2/*` allows every scope that starts with `Function2/`.',
    }),
    authorizedEntities: Type.Array(AUTHORIZED_ENTITY, {
      title: 'Authorized entities',
      default: [],
      maxItems: 1000,
      description: 'Routes (ids) and `tag:<name>` (every route so tagged) an approved credential may call.',
    }),
    quotas: { title: 'Quotas', ...QuotasSchema },
    owner: Type.String({
      title: 'Owner',
      minLength: 1,
      maxLength: 200,
      description: 'Who provides the product (a team, a contact).',
    }),
    onReject: Type.Union([Type.Literal('disable'), Type.Literal('delete')], {
      title: 'On reject',
      default: 'disable',
      description: "What a rejection does to the request's API key: keep it disabled, or delete it.",
    }),
    webhook: Type.Optional({ title: 'Webhook', ...WebhookSchema }),
    tags: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
      title: 'Tags',
      default: [],
      maxItems: MAX_LIST_ITEMS,
    }),
    ...EntityMeta,
  },
  { additionalProperties: false },
);
export type AuthorizationProfile = Static<typeof AuthorizationProfileSchema>;

export const REQUEST_STATES = ['pending', 'approved', 'rejected', 'revoked'] as const;
export type RequestState = (typeof REQUEST_STATES)[number];
const STATE = Type.Union(REQUEST_STATES.map((s) => Type.Literal(s)));
const ACTOR = Type.String({ minLength: 1, maxLength: 300, description: '`admin`, or `token:<id>` for an API token.' });
const REASON = Type.String({ maxLength: 2000 });

export const AuditEventSchema = Type.Object(
  {
    at: { title: 'At', ...DateTime() },
    actor: { title: 'Actor', ...ACTOR },
    from: Type.Union([STATE, Type.Null()], { title: 'From', description: 'Null for the creation.' }),
    to: { title: 'To', ...STATE },
    reason: Type.Optional({ title: 'Reason', ...REASON }),
  },
  { additionalProperties: false },
);
export type AuditEvent = Static<typeof AuditEventSchema>;

export const ClientAuthenticationSchema = Type.Object(
  {
    method: Type.Union([Type.Literal('client_secret_basic'), Type.Literal('private_key_jwt')], {
      title: 'Method',
      description: 'The token endpoint authentication method (RFC 7591 names) the API key gets.',
    }),
    jwksUri: Type.Optional(
      Type.String({
        title: 'JWKS URI',
        pattern: '^https?://[^\\s/?#]+(/[^\\s#]*)?$',
        maxLength: 2000,
        description: "The requester's JWKS URL (`private-key-jwt-jwks-uri` profiles).",
      }),
    ),
    publicKey: Type.Optional(
      Type.String({
        title: 'Public key',
        minLength: 1,
        maxLength: 20_000,
        description:
          "The requester's public key or certificate, PEM or JWK JSON (`private-key-jwt-registered-key` profiles).",
      }),
    ),
  },
  { additionalProperties: false },
);
export type ClientAuthentication = Static<typeof ClientAuthenticationSchema>;

export const AccessRequestSchema = Type.Object(
  {
    id: { title: 'ID', ...EntityId },
    profileId: { title: 'Profile ID', ...EntityId },
    requester: Type.Object(
      {
        id: Type.String({
          title: 'ID',
          minLength: 1,
          maxLength: 300,
          description: "The requester's identity at the portal (a user id, an organization).",
        }),
        name: Type.String({ title: 'Name', minLength: 1, maxLength: 200, pattern: '^[^\\x00-\\x1f\\x7f]+$' }),
        email: Type.String({
          title: 'Email',
          minLength: 3,
          maxLength: 320,
          pattern: '^[^\\s@]+@[^\\s@]+$',
          description: 'Where the requester is told of the decision.',
        }),
      },
      { title: 'Requester', additionalProperties: false },
    ),
    requestedScopes: Type.Array(SCOPE, {
      title: 'Requested scopes',
      default: [],
      maxItems: MAX_LIST_ITEMS,
      uniqueItems: true,
    }),
    justification: Type.String({ title: 'Justification', default: '', maxLength: 4000 }),
    redirectUris: Type.Array(
      Type.String({ minLength: 1, maxLength: 2000, pattern: '^[A-Za-z][A-Za-z0-9+.-]*:[^\\s#]+$' }),
      {
        title: 'Redirect URIs',
        default: [],
        maxItems: MAX_LIST_ITEMS,
        description: "For `authorization-code` profiles: the client's redirect URIs.",
      },
    ),
    clientAuthentication: { title: 'Client authentication', ...ClientAuthenticationSchema },
    state: { title: 'State', ...STATE },
    grantedScopes: Type.Optional(
      Type.Array(SCOPE, { title: 'Granted scopes', maxItems: MAX_LIST_ITEMS, uniqueItems: true }),
    ),
    quotas: Type.Optional({ title: 'Quotas', ...QuotasSchema }),
    decidedBy: Type.Optional({ title: 'Decided by', ...ACTOR }),
    decidedAt: Type.Optional({ title: 'Decided at', ...DateTime() }),
    reason: Type.Optional({ title: 'Reason', ...REASON }),
    apiKeyId: Type.Optional({ title: 'API key ID', ...EntityId }),
    createdBy: { title: 'Created by', ...ACTOR },
    history: Type.Array(AuditEventSchema, {
      title: 'History',
      maxItems: MAX_LIST_ITEMS,
      description: 'Every transition, oldest first: who, when, from, to, why.',
    }),
    ...EntityMeta,
  },
  { additionalProperties: false },
);
export type AccessRequest = Static<typeof AccessRequestSchema>;

export const PROFILE_KIND = defineEntityKind({
  name: PROFILES,
  title: 'authorization profile',
  schema: AuthorizationProfileSchema,
  idField: 'id',
  affectsPipelines: false,
  references: (profile) =>
    profile.authorizedEntities.flatMap((entity, i): EntityReference[] =>
      entity.startsWith('tag:') ? [] : [{ kind: ROUTES.name, id: entity, path: `/authorizedEntities/${i}` }],
    ),
});

export const ACCESS_REQUEST_KIND = defineEntityKind({
  name: ACCESS_REQUESTS,
  title: 'access request',
  schema: AccessRequestSchema,
  idField: 'id',
  affectsPipelines: false,
  // A profile in use, and the request's API key, cannot be deleted under it.
  references: (request) => [
    { kind: PROFILES, id: request.profileId, path: '/profileId' },
    ...(request.apiKeyId === undefined ? [] : [{ kind: CLIENT_KIND, id: request.apiKeyId, path: '/apiKeyId' }]),
  ],
});

/** Whether a profile's scopes allow `scope`: equal, or under a `prefix/*` wildcard. */
export function profileAllows(profileScopes: readonly string[], scope: string): boolean {
  return profileScopes.some(
    (allowed) =>
      allowed === scope ||
      (allowed.endsWith('/*') &&
        scope.length > allowed.length - 1 &&
        scope.startsWith(allowed.slice(0, -1)) &&
        !scope.includes('*')),
  );
}

/** The webhook secret is write-only: kept across writes that omit it, never shown, exported only with private keys. */
export function profileHooks(): EntityHooks<AuthorizationProfile> {
  return {
    check(profile, ctx) {
      if (
        profile.webhook &&
        profile.webhook.secret === undefined &&
        ctx.previous?.webhook?.secret === undefined &&
        !ctx.importing
      ) {
        return [
          {
            path: '/webhook/secret',
            message: 'A webhook needs a secret (at least 16 characters) to sign its deliveries',
          },
        ];
      }
      return [];
    },
    prepare(profile, ctx) {
      const secret = profile.webhook?.secret ?? ctx.previous?.webhook?.secret;
      return profile.webhook
        ? { ...profile, webhook: { ...profile.webhook, ...(secret === undefined ? {} : { secret }) } }
        : profile;
    },
    present: (profile) => withoutSecret(profile),
    export: (profile, options: ExportOptions) => (options.includePrivateKeys ? profile : withoutSecret(profile)),
  };
}

function withoutSecret(profile: AuthorizationProfile): StoredEntity {
  if (!profile.webhook) return profile;
  // Nothing added in its place: what a client reads must be writable back as it is.
  const { secret: _hidden, ...webhook } = profile.webhook;
  return { ...profile, webhook };
}

/** The module's two kinds, as its host gives them. */
export interface AccessRequestKinds {
  readonly profiles: EntityHandle<AuthorizationProfile>;
  readonly requests: EntityHandle<AccessRequest>;
}
