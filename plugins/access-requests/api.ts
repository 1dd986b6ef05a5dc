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
import {
  API_TOKEN_SCOPES,
  NotFoundError,
  BadRequestError,
  matchesTag,
  type AdminCaller,
  type AdminRoute,
  type EntityHandle,
} from '../../core/plugin-api.js';
import { ACCESS_REQUESTS, type AccessRequest, type AccessRequestKinds, type AuthorizationProfile } from './entity.js';
import { AccessRequestService, actorOf, type Decision, type DecisionInput } from './service.js';
import type { WebhookDispatcher } from './webhooks.js';

const CREATE = API_TOKEN_SCOPES.createAccessRequests;
const DECIDE = API_TOKEN_SCOPES.decideAccessRequests;

/** Whether `caller` may see `request`: everyone but a portal token, which sees the requests it created. */
function visibleTo(caller: AdminCaller, request: AccessRequest): boolean {
  return caller.kind === 'admin' || caller.scopes.includes(DECIDE) || request.createdBy === actorOf(caller);
}

export function accessRequestRoutes(
  kinds: AccessRequestKinds,
  service: AccessRequestService,
  webhooks: WebhookDispatcher,
): AdminRoute[] {
  const { requests } = kinds;
  const visible = (caller: AdminCaller, id: string): AccessRequest => {
    const request = requests.get(id);
    if (!visibleTo(caller, request)) throw new NotFoundError(`No access request with id "${id}"`);
    return request;
  };
  return [
    ...profileRoutes(kinds.profiles),
    listRoute(requests),
    createRoute(service),
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
    deliveriesRoute(requests, webhooks),
    decisionRoute(service, 'approve'),
    decisionRoute(service, 'reject'),
    decisionRoute(service, 'revoke'),
    {
      method: 'DELETE',
      path: `/api/${ACCESS_REQUESTS}/:id`,
      handler: async ({ params }) => {
        await requests.delete(params.id!);
        return { status: 204 };
      },
    },
  ];
}

/** The standard endpoints of the profiles; portals and managers may read them. */
function profileRoutes(profiles: EntityHandle<AuthorizationProfile>): AdminRoute[] {
  return profiles
    .adminRoutes({ filter: (query) => (profile) => matchesTag(profile, query) })
    .map((r) => (r.method === 'GET' ? { ...r, scopes: [CREATE, DECIDE] } : r));
}

function listRoute(requests: EntityHandle<AccessRequest>): AdminRoute {
  return {
    method: 'GET',
    path: `/api/${ACCESS_REQUESTS}`,
    scopes: [CREATE, DECIDE],
    handler({ query, caller }) {
      const state = query.get('state');
      const profileId = query.get('profile');
      const items = requests
        .list()
        .filter(
          (r) =>
            visibleTo(caller, r) &&
            (state === null || r.state === state) &&
            (profileId === null || r.profileId === profileId),
        )
        .sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? ''));
      return { body: items, headers: { 'x-total-count': String(items.length) } };
    },
  };
}

function createRoute(service: AccessRequestService): AdminRoute {
  return {
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
  };
}

function deliveriesRoute(requests: EntityHandle<AccessRequest>, webhooks: WebhookDispatcher): AdminRoute {
  return {
    method: 'GET',
    path: `/api/${ACCESS_REQUESTS}/:id/deliveries`,
    scopes: [DECIDE],
    async handler({ params }) {
      const request = requests.get(params.id!);
      return { body: (await webhooks.list(request.id)).map(({ body: _sent, ...delivery }) => delivery) };
    },
  };
}

/** The fields a decision's body may carry. */
function decisionInput(name: Decision, body: unknown): DecisionInput {
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
  return input as DecisionInput;
}

function decisionRoute(service: AccessRequestService, name: Decision): AdminRoute {
  return {
    method: 'POST',
    path: `/api/${ACCESS_REQUESTS}/:id/${name}`,
    scopes: [DECIDE],
    async handler({ params, optionalBody, caller }) {
      const input = decisionInput(name, await optionalBody());
      return { body: await service.decide(params.id!, name, input, caller) };
    },
  };
}
