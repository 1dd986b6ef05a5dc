/**
 * Admin endpoints for API keys: the standard CRUD (the secret hash never shown), creation that
 * generates and returns the secret once, rotation, revocation of every token issued to a key, and
 * list filters by tag, enablement and route.
 */
import { Type } from '@sinclair/typebox';
import {
  matchesEnabled,
  matchesTag,
  TAG_FILTER,
  ENABLED_FILTER,
  DateTime,
  type AdminRoute,
  type EntityHandle,
  type EntityReader,
  type EntityRouteOptions,
  type Route,
  BadRequestError,
  NotFoundError,
  type RevocationList,
} from '../../core/plugin-api.js';
import { APIKEYS, ApiKeySchema, generateSecret, hashSecret, hasNoSecret, type ApiKey } from './entity.js';
import { indexKey, isAuthorizedFor } from './key-index.js';

/** The API keys' admin endpoints: the standard ones, creation replaced by one that shows the generated secret. */
export function apiKeyRoutes(
  keys: EntityHandle<ApiKey>,
  routes: EntityReader<Route>,
  revocations: RevocationList,
): AdminRoute[] {
  const crud = keys
    .adminRoutes(listFilters(routes))
    .filter((r) => !(r.method === 'POST' && r.path === `/api/${APIKEYS}`));
  return [...crud, createRoute(keys), rotateSecretRoute(keys), revokeTokensRoute(keys, revocations)];
}

/** `?tag=`, `?enabled=` and `?route=` (keys authorized for that route, by id or by one of its tags). */
function listFilters(routes: EntityReader<Route>): EntityRouteOptions {
  return {
    filter: (query) => {
      const routeId = query.get('route');
      const route = routeId === null ? undefined : routes.find(routeId);
      if (routeId !== null && route === undefined) throw new NotFoundError(`No route with id "${routeId}"`);
      return (key) =>
        matchesTag(key, query) &&
        matchesEnabled(key, query) &&
        (route === undefined || isAuthorizedFor(indexKey(key as ApiKey), route.id, route.tags ?? []));
    },
    filterQuery: {
      ...TAG_FILTER,
      ...ENABLED_FILTER,
      route: Type.String({ description: 'Only keys authorized for this route (by id or by one of its tags).' }),
    },
  };
}

/** A copy of the body with a generated secret when it names none (unless the client is public), and that secret. */
function withSecret(body: unknown): { input: unknown; secret: string | undefined } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { input: body, secret: undefined };
  const record: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  if (
    !hasNoSecret(record as Pick<ApiKey, 'clientType' | 'tokenEndpointAuthMethod'>) &&
    record.clientSecret === undefined &&
    record.clientSecretHash === undefined
  )
    record.clientSecret = generateSecret();
  return { input: record, secret: typeof record.clientSecret === 'string' ? record.clientSecret : undefined };
}

function createRoute(keys: EntityHandle<ApiKey>): AdminRoute {
  return {
    method: 'POST',
    path: `/api/${APIKEYS}`,
    async handler(request) {
      const { input, secret } = withSecret(await request.body());
      const stored = await keys.create(input);
      return {
        status: 201,
        body: { ...keys.present(stored), ...(secret ? { clientSecret: secret } : {}) },
      };
    },
    doc: {
      summary: 'Create an API key',
      description:
        'Without `clientSecret` (and unless the client is public), a secret is generated; the answer carries it this once.',
      body: ApiKeySchema,
      responses: { 201: ApiKeySchema },
    },
  };
}

function rotateSecretRoute(keys: EntityHandle<ApiKey>): AdminRoute {
  return {
    method: 'POST',
    path: `/api/${APIKEYS}/:clientId/rotate-secret`,
    async handler({ params }) {
      const current = keys.get(params.clientId!);
      if (hasNoSecret(current))
        throw new BadRequestError(
          `A ${current.tokenEndpointAuthMethod === 'private_key_jwt' ? 'private_key_jwt' : 'public'} client has no secret to rotate`,
        );
      const secret = generateSecret();
      const stored = await keys.replace(current.clientId, { ...current, clientSecretHash: hashSecret(secret) });
      return { body: { ...keys.present(stored), clientSecret: secret } };
    },
    doc: {
      summary: 'Rotate the secret of an API key',
      description: 'The answer carries the new secret this once; the old one stops working.',
      responses: { 200: ApiKeySchema },
    },
  };
}

/** Every access token issued to this key until now is refused everywhere; new ones work. */
function revokeTokensRoute(keys: EntityHandle<ApiKey>, revocations: RevocationList): AdminRoute {
  return {
    method: 'POST',
    path: `/api/${APIKEYS}/:clientId/revoke-tokens`,
    async handler({ params }) {
      const key = keys.get(params.clientId!);
      const notBefore = await revocations.revokeClientTokens(key.clientId);
      return { body: { clientId: key.clientId, tokensIssuedBefore: new Date(notBefore * 1000).toISOString() } };
    },
    doc: {
      summary: 'Revoke every token issued to an API key',
      responses: {
        200: Type.Object(
          {
            clientId: Type.String(),
            tokensIssuedBefore: DateTime({ description: 'Tokens issued before this instant are refused.' }),
          },
          { additionalProperties: false },
        ),
      },
    },
  };
}
