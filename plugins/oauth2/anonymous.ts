/**
 * Kong's `anonymous` for the `oauth2` protected route: a request without a bearer token passes as
 * a configured consumer (an API key), and the upstream is told so. A token that is sent and
 * invalid is still refused: anonymous access never hides a broken client.
 */
import { headerValue, isClientActive, type ClientDirectory, type RequestContext } from '../../core/plugin-api.js';

/**
 * Let `ctx` through as the anonymous consumer `clientId`; false when there is none, or when its
 * API key is disabled or expired (then the request needs a token like any other).
 */
export function passAnonymously(ctx: RequestContext, clients: ClientDirectory, clientId: string | undefined): boolean {
  if (clientId === undefined) return false;
  const client = clients.get(clientId);
  if (!client || !isClientActive(client)) return false;
  const headers = ctx.upstreamHeaders;
  headers['x-consumer-id'] = client.key.clientId;
  headers['x-consumer-username'] = headerValue(client.key.clientName);
  headers['x-anonymous-consumer'] = 'true';
  ctx.consumer = client.key.clientId;
  return true;
}
