/**
 * Admin endpoints for API keys: the standard CRUD (the secret hash never shown), creation that
 * generates and returns the secret once, rotation, revocation of every token issued to a key, and
 * list filters by tag, enablement and route.
 */
import { injectable } from 'tsyringe';
import { Type } from '@sinclair/typebox';
import {
  entityRoutes,
  matchesEnabled,
  matchesTag,
  TAG_FILTER,
  ENABLED_FILTER,
  DateTime,
  type AdminExtension,
  type AdminRoute,
  EntityService,
  ROUTES,
  type Route,
  BadRequestError,
  NotFoundError,
  RevocationList,
} from '../../core/plugin-api.js';
import { APIKEYS, ApiKeySchema, generateSecret, hashSecret, hasNoSecret, type ApiKey } from './entity.js';
import { indexKey, isAuthorizedFor } from './key-index.js';

@injectable()
export class ApiKeysAdmin implements AdminExtension {
  readonly #entities: EntityService;
  readonly #revocations: RevocationList;

  constructor(entities: EntityService, revocations: RevocationList) {
    this.#entities = entities;
    this.#revocations = revocations;
  }

  routes(): AdminRoute[] {
    const entities = this.#entities;
    const revocations = this.#revocations;
    const crud = entityRoutes(entities, APIKEYS, {
      filter: (query) => {
        const routeId = query.get('route');
        let route: Route | undefined;
        if (routeId !== null) {
          try {
            route = entities.get(ROUTES.name, routeId) as Route;
          } catch {
            throw new NotFoundError(`No route with id "${routeId}"`);
          }
        }
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
    }).filter((r) => !(r.method === 'POST' && r.path === `/api/${APIKEYS}`));
    return [
      ...crud,
      {
        method: 'POST',
        path: `/api/${APIKEYS}`,
        async handler(request) {
          const body = await request.body();
          const input =
            typeof body === 'object' && body !== null && !Array.isArray(body)
              ? { ...(body as Record<string, unknown>) }
              : body;
          let secret: string | undefined;
          if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
            const record = input as Record<string, unknown>;
            if (
              !hasNoSecret(record as Pick<ApiKey, 'clientType' | 'tokenEndpointAuthMethod'>) &&
              record.clientSecret === undefined &&
              record.clientSecretHash === undefined
            )
              record.clientSecret = generateSecret();
            if (typeof record.clientSecret === 'string') secret = record.clientSecret;
          }
          const stored = await entities.create(APIKEYS, input);
          return {
            status: 201,
            body: { ...entities.present(APIKEYS, stored), ...(secret ? { clientSecret: secret } : {}) },
          };
        },
        doc: {
          summary: 'Create an API key',
          description:
            'Without `clientSecret` (and unless the client is public), a secret is generated; the answer carries it this once.',
          body: ApiKeySchema,
          responses: { 201: ApiKeySchema },
        },
      },
      {
        method: 'POST',
        path: `/api/${APIKEYS}/:clientId/rotate-secret`,
        async handler({ params }) {
          const current = entities.get(APIKEYS, params.clientId!) as ApiKey;
          if (hasNoSecret(current))
            throw new BadRequestError(
              `A ${current.tokenEndpointAuthMethod === 'private_key_jwt' ? 'private_key_jwt' : 'public'} client has no secret to rotate`,
            );
          const secret = generateSecret();
          const stored = await entities.replace(APIKEYS, current.clientId, {
            ...current,
            clientSecretHash: hashSecret(secret),
          });
          return { body: { ...entities.present(APIKEYS, stored), clientSecret: secret } };
        },
        doc: {
          summary: 'Rotate the secret of an API key',
          description: 'The answer carries the new secret this once; the old one stops working.',
          responses: { 200: ApiKeySchema },
        },
      },
      {
        // Every access token issued to this key until now is refused everywhere; new ones work.
        method: 'POST',
        path: `/api/${APIKEYS}/:clientId/revoke-tokens`,
        async handler({ params }) {
          const key = entities.get(APIKEYS, params.clientId!) as ApiKey;
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
      },
    ];
  }
}
