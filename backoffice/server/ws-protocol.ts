/**
 * The back office's WebSocket protocol. Requests `{ id, op, entity, payload }` run the admin API's
 * own endpoints (one code path for writes: same validation, same errors); replies are
 * `{ id, ok, result | error }`. The server pushes `{ event: "changed", entity, id }` for every store
 * change and `{ event: "traffic", … }` every second. The dashboard's charts `get` `route-history`
 * (the last 15 minutes per route, `GET /api/traffic/history`, with `payload.query` `{limit?, route?}`).
 */
import {
  BadRequestError,
  GatewayError,
  PayloadTooLargeError,
  assertJsonDepth,
  toGatewayError,
  type AdminApi,
} from './door.js';

export const MAX_MESSAGE_BYTES = 1024 * 1024;
export const ENTITIES = new Set([
  'routes',
  'global-config',
  'apikeys',
  'keypairs',
  'jwt-verifiers',
  'authorization-profiles',
  'access-requests',
]);
/**
 * What an access request has beside itself, read with `op: "get"` and `payload.part`: its audit
 * trail (`events`) and its webhook log (`deliveries`). Decisions are `action`s (`approve`,
 * `reject`, `revoke`) with `payload.body`.
 */
export const ACCESS_REQUEST_PARTS = new Set(['events', 'deliveries']);
/** Read-only or whole-configuration resources reachable with `op: "get"` / `"action"`. */
export const RESOURCES = new Set(['plugins', 'schemas', 'export', 'import', 'route-history', 'warnings']);
/**
 * The `oauth2` plugin's live grants (runtime state, not configuration): `list` with
 * `payload.query` `{client?, user?}`, `delete` one by `payload.id`, and `action` `revoke` with a
 * `payload.query` naming a client and/or a user.
 */
export const GRANTS = 'oauth2-grants';

export interface ClientRequest {
  id: string | number;
  op: 'list' | 'get' | 'create' | 'update' | 'delete' | 'action';
  entity: string;
  payload?: unknown;
}

export type Reply =
  | { id: string | number | null; ok: true; result: unknown }
  | {
      id: string | number | null;
      ok: false;
      error: { status: number; error: string; error_description: string; details?: unknown };
    };

function errorReply(id: string | number | null, error: unknown): Reply {
  const gatewayError = toGatewayError(error);
  return {
    id,
    ok: false,
    error: { status: gatewayError.status, ...(gatewayError.toJSON() as { error: string; error_description: string }) },
  };
}

/** Parse a raw message; an error reply for anything malformed. */
export function parseRequest(raw: Buffer): ClientRequest | Reply {
  if (raw.length > MAX_MESSAGE_BYTES) return errorReply(null, new PayloadTooLargeError(MAX_MESSAGE_BYTES, 'A message'));
  const text = raw.toString('utf8');
  let tooDeep: GatewayError | null = null;
  try {
    assertJsonDepth(text);
  } catch (error) {
    tooDeep = error instanceof GatewayError ? error : new BadRequestError('The message is not valid JSON');
  }
  let message: unknown;
  try {
    // V8's JSON.parse does not recurse, so even a message nested too deeply is parsed safely, for
    // its id; the depth bound protects what recurses afterwards (cloning, schema checks).
    message = JSON.parse(text);
  } catch {
    return errorReply(null, new BadRequestError('The message is not valid JSON'));
  }
  const m = (isPlainObject(message) ? message : {}) as Partial<Record<keyof ClientRequest, unknown>>;
  const id = isValidId(m.id) ? m.id : null;
  if (tooDeep) return errorReply(id, tooDeep);
  if (!isPlainObject(message)) return errorReply(null, new BadRequestError('A message is an object with an id'));
  if (id === null)
    return errorReply(
      null,
      new BadRequestError(`A message needs an id: a string of at most ${MAX_ID_LENGTH} characters or a finite number`),
    );
  if (typeof m.op !== 'string' || !OPS.has(m.op))
    return errorReply(id, new BadRequestError('Unknown op; use list, get, create, update, delete or action'));
  if (typeof m.entity !== 'string' || (!ENTITIES.has(m.entity) && !RESOURCES.has(m.entity) && m.entity !== GRANTS))
    return errorReply(
      id,
      new BadRequestError(
        `Unknown entity ${typeof m.entity === 'string' ? JSON.stringify(m.entity.slice(0, 64)) : `(a ${m.entity === null ? 'null' : typeof m.entity})`}; use ${[...ENTITIES, ...RESOURCES, GRANTS].join(', ')}`,
      ),
    );
  if (m.payload !== undefined && m.payload !== null && !isPlainObject(m.payload))
    return errorReply(id, new BadRequestError('payload must be an object'));
  return m as ClientRequest;
}

const OPS = new Set(['list', 'get', 'create', 'update', 'delete', 'action']);
const MAX_ID_LENGTH = 128;

function isValidId(id: unknown): id is string | number {
  return (typeof id === 'string' && id.length <= MAX_ID_LENGTH) || (typeof id === 'number' && Number.isFinite(id));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Run a request through the admin API. */
export async function execute(api: AdminApi, request: ClientRequest): Promise<Reply> {
  try {
    const { method, path, body } = route(request);
    const result = await api.invoke(method, path, body);
    return { id: request.id, ok: true, result: result.body ?? null };
  } catch (error) {
    return errorReply(request.id, error);
  }
}

function route(request: ClientRequest): { method: string; path: string; body?: unknown } {
  const { op, entity } = request;
  const payload = (request.payload ?? {}) as Record<string, unknown>;
  const id = typeof payload.id === 'string' ? encodeSegment(payload.id) : undefined;
  const need = (value: string | undefined) => {
    if (!value) throw new BadRequestError(`This op needs payload.id`);
    return value;
  };
  // `action` `summaries` on the catalog: what a draft's plugin instances do (the route designer).
  if (entity === 'plugins' && op === 'action' && payload.action === 'summaries')
    return { method: 'POST', path: '/api/plugins/summaries', body: payload.body };
  if (entity === 'plugins' || entity === 'schemas') return { method: 'GET', path: `/api/${entity}` };
  if (entity === 'export')
    return { method: 'GET', path: `/api/export${payload.includePrivateKeys ? '?includePrivateKeys=true' : ''}` };
  if (entity === 'import') return { method: 'POST', path: '/api/import', body: payload.document };
  if (entity === 'route-history') return { method: 'GET', path: `/api/traffic/history?${listQuery(payload.query)}` };
  // `get` the configuration's warnings; `action` `route` those a route draft would have.
  if (entity === 'warnings')
    return op === 'action' && payload.action === 'route'
      ? { method: 'POST', path: '/api/warnings/route', body: payload.body }
      : { method: 'GET', path: '/api/warnings' };
  if (entity === GRANTS) return grantsRoute(op, payload, id);
  if (entity === 'global-config')
    return op === 'update'
      ? { method: 'PUT', path: '/api/global-config', body: payload.entity }
      : { method: 'GET', path: '/api/global-config' };
  switch (op) {
    case 'list':
      return { method: 'GET', path: `/api/${entity}?${listQuery(payload.query)}` };
    case 'get':
      return { method: 'GET', path: `/api/${entity}/${need(id)}${part(entity, payload.part)}` };
    case 'create':
      return { method: 'POST', path: `/api/${entity}`, body: payload.entity };
    case 'update':
      return { method: 'PUT', path: `/api/${entity}/${need(id)}`, body: payload.entity };
    case 'delete':
      return { method: 'DELETE', path: `/api/${entity}/${need(id)}` };
    case 'action': {
      // Never String() a client's value: `{"toString": 1}` would throw a TypeError.
      const action = typeof payload.action === 'string' ? payload.action : '';
      // Segments of lower-case words: `rotate-secret`, or a plugin's own `plugins/oauth2/provision-key`.
      if (!ACTION.test(action)) throw new BadRequestError('payload.action is required');
      return { method: 'POST', path: `/api/${entity}/${need(id)}/${action}`, body: payload.body };
    }
  }
}

const ACTION = /^[a-z0-9-]+(?:\/[a-z0-9-]+)*$/;

/** The sub-resource a `get` names, as a path suffix; only an access request has any. */
function part(entity: string, asked: unknown): string {
  if (asked === undefined || asked === null) return '';
  if (entity !== 'access-requests' || typeof asked !== 'string' || !ACCESS_REQUEST_PARTS.has(asked)) {
    throw new BadRequestError(
      `payload.part is one of ${[...ACCESS_REQUEST_PARTS].join(', ')}, for access-requests only`,
    );
  }
  return `/${asked}`;
}

function grantsRoute(
  op: ClientRequest['op'],
  payload: Record<string, unknown>,
  id: string | undefined,
): { method: string; path: string } {
  const base = '/api/oauth2/grants';
  if (op === 'list') return { method: 'GET', path: `${base}?${listQuery(payload.query)}` };
  if (op === 'delete') {
    if (!id) throw new BadRequestError('This op needs payload.id');
    return { method: 'DELETE', path: `${base}/${id}` };
  }
  if (op === 'action' && payload.action === 'revoke')
    return { method: 'POST', path: `${base}/revoke?${listQuery(payload.query)}` };
  throw new BadRequestError(`${GRANTS} answers list, delete and the action revoke`);
}

/** `payload.query` as a query string: an object of strings, numbers or booleans. */
function listQuery(query: unknown): string {
  if (query === undefined || query === null) return '';
  if (!isPlainObject(query)) throw new BadRequestError('payload.query must be an object');
  const params = new URLSearchParams();
  const scalar = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
  for (const [name, value] of Object.entries(query)) {
    // A list repeats the parameter (`route` of the traffic history names several routes).
    const values: unknown[] = Array.isArray(value) ? value : [value];
    if (!values.every(scalar))
      throw new BadRequestError(`payload.query.${name.slice(0, 64)} must be a string or a list of strings`);
    for (const v of values) params.append(name, String(v));
  }
  return params.toString();
}

function encodeSegment(id: string): string {
  try {
    return encodeURIComponent(id);
  } catch {
    throw new BadRequestError('payload.id is not a well-formed string'); // a lone UTF-16 surrogate
  }
}
