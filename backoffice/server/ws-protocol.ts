/**
 * The back office's WebSocket protocol. Requests `{ id, op, entity, payload }` run the admin API's
 * own endpoints (one code path for writes: same validation, same errors); replies are
 * `{ id, ok, result | error }`. The server pushes `{ event: "changed", entity, id }` for every store
 * change and `{ event: "traffic", … }` every second.
 */
import type { AdminApi } from '../../core/admin/admin-api.js';
import { BadRequestError, PayloadTooLargeError } from '../../core/errors.js';
import { toGatewayError } from '../../core/http/http-utils.js';

export const MAX_MESSAGE_BYTES = 1024 * 1024;
export const ENTITIES = new Set(['routes', 'global-config', 'apikeys', 'keypairs', 'jwt-verifiers']);
/** Read-only or whole-configuration resources reachable with `op: "get"` / `"action"`. */
export const RESOURCES = new Set(['plugins', 'schemas', 'export', 'import']);

export interface ClientRequest {
  id: string | number;
  op: 'list' | 'get' | 'create' | 'update' | 'delete' | 'action';
  entity: string;
  payload?: unknown;
}

export type Reply =
  | { id: string | number | null; ok: true; result: unknown }
  | { id: string | number | null; ok: false; error: { status: number; error: string; error_description: string; details?: unknown } };

function errorReply(id: string | number | null, error: unknown): Reply {
  const gatewayError = toGatewayError(error);
  return { id, ok: false, error: { status: gatewayError.status, ...(gatewayError.toJSON() as { error: string; error_description: string }) } };
}

/** Parse a raw message; an error reply for anything malformed. */
export function parseRequest(raw: Buffer): ClientRequest | Reply {
  if (raw.length > MAX_MESSAGE_BYTES) return errorReply(null, new PayloadTooLargeError(MAX_MESSAGE_BYTES, 'A message'));
  let message: unknown;
  try {
    message = JSON.parse(raw.toString('utf8'));
  } catch {
    return errorReply(null, new BadRequestError('The message is not valid JSON'));
  }
  const m = message as Partial<ClientRequest>;
  const id = typeof m?.id === 'string' || typeof m?.id === 'number' ? m.id : null;
  if (typeof message !== 'object' || message === null || id === null) return errorReply(id, new BadRequestError('A message is an object with an id'));
  if (!['list', 'get', 'create', 'update', 'delete', 'action'].includes(String(m.op))) return errorReply(id, new BadRequestError('Unknown op; use list, get, create, update, delete or action'));
  if (typeof m.entity !== 'string' || (!ENTITIES.has(m.entity) && !RESOURCES.has(m.entity))) return errorReply(id, new BadRequestError(`Unknown entity ${JSON.stringify(m.entity)}`));
  return m as ClientRequest;
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
  const id = typeof payload.id === 'string' ? encodeURIComponent(payload.id) : undefined;
  const need = (value: string | undefined) => {
    if (!value) throw new BadRequestError(`This op needs payload.id`);
    return value;
  };
  if (entity === 'plugins' || entity === 'schemas') return { method: 'GET', path: `/api/${entity}` };
  if (entity === 'export') return { method: 'GET', path: `/api/export${payload.includePrivateKeys ? '?includePrivateKeys=true' : ''}` };
  if (entity === 'import') return { method: 'POST', path: '/api/import', body: payload.document };
  if (entity === 'global-config') return op === 'update' ? { method: 'PUT', path: '/api/global-config', body: payload.entity } : { method: 'GET', path: '/api/global-config' };
  switch (op) {
    case 'list': return { method: 'GET', path: `/api/${entity}?${new URLSearchParams((payload.query ?? {}) as Record<string, string>).toString()}` };
    case 'get': return { method: 'GET', path: `/api/${entity}/${need(id)}` };
    case 'create': return { method: 'POST', path: `/api/${entity}`, body: payload.entity };
    case 'update': return { method: 'PUT', path: `/api/${entity}/${need(id)}`, body: payload.entity };
    case 'delete': return { method: 'DELETE', path: `/api/${entity}/${need(id)}` };
    case 'action': {
      const action = String(payload.action ?? '');
      if (!/^[a-z-]+$/.test(action)) throw new BadRequestError('payload.action is required');
      return { method: 'POST', path: `/api/${entity}/${need(id)}/${action}`, body: payload.body };
    }
  }
}
