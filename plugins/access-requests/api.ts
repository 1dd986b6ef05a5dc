/**
 * Admin endpoints of the access-request lifecycle, and which API token scopes reach each:
 *
 * | endpoint | admin | `access-requests:create` (a portal) | `access-requests:decide` (a manager) |
 * |---|---|---|---|
 * | `GET /api/authorization-profiles[/:id]` | yes | yes | yes |
 * | `POST/PUT/DELETE /api/authorization-profiles…` | yes | – | – |
 * | `POST /api/access-requests` | yes | yes | – |
 * | `GET /api/access-requests[/:id]`, `…/:id/events` | yes | its own requests | yes |
 * | `POST /api/access-requests/:id/approve|reject|revoke` | yes | – | yes |
 * | `GET /api/access-requests/:id/deliveries` | yes | – | yes |
 * | `DELETE /api/access-requests/:id` | yes | – | – |
 *
 * A portal token sees only the requests it created: another's answers 404, as if absent.
 */
import { injectable } from 'tsyringe';
import {
  API_TOKEN_SCOPES,
  EntityService,
  NotFoundError,
  BadRequestError,
  entityRoutes,
  matchesTag,
  type AdminCaller,
  type AdminExtension,
  type AdminRoute,
} from '../../core/plugin-api.js';
import { ACCESS_REQUEST_KIND, ACCESS_REQUESTS, PROFILES, type AccessRequest } from './entity.js';
import { AccessRequestService, actorOf, type Decision, type DecisionInput } from './service.js';
import { WebhookDispatcher } from './webhooks.js';

const CREATE = API_TOKEN_SCOPES.createAccessRequests;
const DECIDE = API_TOKEN_SCOPES.decideAccessRequests;

/** Whether `caller` may see `request`: everyone but a portal token, which sees the requests it created. */
function visibleTo(caller: AdminCaller, request: AccessRequest): boolean {
  return caller.kind === 'admin' || caller.scopes.includes(DECIDE) || request.createdBy === actorOf(caller);
}

@injectable()
export class AccessRequestsAdmin implements AdminExtension {
  readonly #entities: EntityService;
  readonly #service: AccessRequestService;
  readonly #webhooks: WebhookDispatcher;

  constructor(entities: EntityService, service: AccessRequestService, webhooks: WebhookDispatcher) {
    this.#entities = entities;
    this.#service = service;
    this.#webhooks = webhooks;
  }

  routes(): AdminRoute[] {
    const entities = this.#entities;
    const service = this.#service;
    const webhooks = this.#webhooks;
    const visible = (caller: AdminCaller, id: string): AccessRequest => {
      const request = entities.get(ACCESS_REQUEST_KIND, id);
      if (!visibleTo(caller, request)) throw new NotFoundError(`No access request with id "${id}"`);
      return request;
    };
    const decision = (name: Decision): AdminRoute => ({
      method: 'POST',
      path: `/api/${ACCESS_REQUESTS}/:id/${name}`,
      scopes: [DECIDE],
      async handler({ params, optionalBody, caller }) {
        const body = await optionalBody();
        if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body)))
          throw new BadRequestError('The decision must be a JSON object');
        const input = (body ?? {}) as Record<string, unknown>;
        const unknown = Object.keys(input).filter(
          (k) => !['reason', ...(name === 'approve' ? ['scopes', 'quotas'] : [])].includes(k),
        );
        if (unknown.length > 0) throw new BadRequestError(`Unknown field(s) for ${name}: ${unknown.join(', ')}`);
        if (input.reason !== undefined && typeof input.reason !== 'string')
          throw new BadRequestError('"reason" must be a string');
        if (input.scopes !== undefined && !Array.isArray(input.scopes))
          throw new BadRequestError('"scopes" must be an array of scopes');
        return { body: await service.decide(params.id!, name, input as DecisionInput, caller) };
      },
    });
    const profiles = entityRoutes(entities, PROFILES, {
      filter: (query) => (profile) => matchesTag(profile, query),
    }).map((r) => (r.method === 'GET' ? { ...r, scopes: [CREATE, DECIDE] } : r));
    return [
      ...profiles,
      {
        method: 'GET',
        path: `/api/${ACCESS_REQUESTS}`,
        scopes: [CREATE, DECIDE],
        handler({ query, caller }) {
          const state = query.get('state');
          const profileId = query.get('profile');
          const items = entities
            .list(ACCESS_REQUEST_KIND)
            .filter(
              (r) =>
                visibleTo(caller, r) &&
                (state === null || r.state === state) &&
                (profileId === null || r.profileId === profileId),
            )
            .sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? ''));
          return { body: items, headers: { 'x-total-count': String(items.length) } };
        },
      },
      {
        method: 'POST',
        path: `/api/${ACCESS_REQUESTS}`,
        scopes: [CREATE],
        async handler({ body, caller }) {
          const { request, clientId, clientSecret } = await service.create(await body(), caller);
          return {
            status: 201,
            body: { ...request, clientId, ...(clientSecret === undefined ? {} : { clientSecret }) },
          };
        },
      },
      {
        method: 'GET',
        path: `/api/${ACCESS_REQUESTS}/:id`,
        scopes: [CREATE, DECIDE],
        handler: ({ params, caller }) => ({ body: visible(caller, params.id!) }),
      },
      {
        method: 'GET',
        path: `/api/${ACCESS_REQUESTS}/:id/events`,
        scopes: [CREATE, DECIDE],
        handler: ({ params, caller }) => ({ body: visible(caller, params.id!).history }),
      },
      {
        method: 'GET',
        path: `/api/${ACCESS_REQUESTS}/:id/deliveries`,
        scopes: [DECIDE],
        async handler({ params }) {
          const request = entities.get(ACCESS_REQUEST_KIND, params.id!);
          return { body: (await webhooks.list(request.id)).map(({ body: _sent, ...delivery }) => delivery) };
        },
      },
      decision('approve'),
      decision('reject'),
      decision('revoke'),
      {
        method: 'DELETE',
        path: `/api/${ACCESS_REQUESTS}/:id`,
        handler: async ({ params }) => {
          await entities.delete(ACCESS_REQUESTS, params.id!);
          return { status: 204 };
        },
      },
    ];
  }
}
