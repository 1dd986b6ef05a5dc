/** A gateway with a protected route, an authorization profile for it, and API tokens for a portal and a manager. */
import { startGateway, createRoute, route, type TestGateway, type StartOptions } from '../../helpers/gateway.js';
import { send, sendJson, type TestResponse } from '../../helpers/http.js';
import type { Upstream } from '../../helpers/upstream.js';

export interface PortalWorld {
  gw: TestGateway;
  /** Admin API calls with an API token. */
  as(token: string, method: string, path: string, body?: unknown): Promise<TestResponse>;
  portal: string;
  manager: string;
}

export const PROFILE = {
  id: 'orders-read',
  name: 'Orders, read access',
  description: 'Read the orders of your organization',
  flow: 'client-credentials',
  clientAuthenticator: 'client-secret',
  scopes: ['orders:read', 'Function2/*'],
  authorizedEntities: ['orders'],
  quotas: { dailyQuota: 1000 },
  owner: 'Orders team',
};

export const REQUEST = {
  profileId: 'orders-read',
  requester: { id: 'org-42', name: 'Acme Corp', email: 'dev@acme.example' },
  requestedScopes: ['orders:read', 'Function2/list'],
  justification: 'Nightly reconciliation of our orders',
};

export async function createToken(gw: TestGateway, name: string, scopes: string[]): Promise<string> {
  const res = await gw.admin('POST', '/api/tokens', { name, scopes });
  if (res.status !== 201) throw new Error(`token creation failed: ${res.status} ${res.text}`);
  return res.json().token;
}

export async function portalGateway(
  upstream: Upstream,
  options: StartOptions & { profile?: Record<string, unknown> } = {},
): Promise<PortalWorld> {
  const gw = await startGateway(options);
  const global = (await gw.admin('GET', '/api/global-config')).json();
  const res = await gw.admin('PUT', '/api/global-config', {
    ...global,
    plugins: [{ plugin: 'client-credentials', config: { secure: false } }],
  });
  if (res.status !== 200) throw new Error(res.text);
  await createRoute(
    gw,
    route('orders', upstream.url, {
      plugins: [
        {
          plugin: 'apikeys',
          config: {
            extractors: { basic: { enabled: false }, customHeaders: { enabled: false }, jwt: { enabled: true } },
          },
        },
      ],
    }),
  );
  const profile = await gw.admin('POST', '/api/authorization-profiles', { ...PROFILE, ...options.profile });
  if (profile.status !== 201) throw new Error(`profile creation failed: ${profile.status} ${profile.text}`);
  const portal = await createToken(gw, 'Self-service portal', ['access-requests:create']);
  const manager = await createToken(gw, 'Access manager', ['access-requests:decide']);
  const as = (token: string, method: string, path: string, body?: unknown) => {
    const authorization = `Bearer ${token}`;
    return body === undefined
      ? send(gw.adminUrl + path, { method, headers: { authorization } })
      : sendJson(gw.adminUrl + path, method, body, { authorization });
  };
  return { gw, as, portal, manager };
}

/** Create a request as the portal; returns the answer's body (with the client id and secret). */
export async function requestAccess(world: PortalWorld, overrides: Record<string, unknown> = {}): Promise<any> {
  const res = await world.as(world.portal, 'POST', '/api/access-requests', { ...REQUEST, ...overrides });
  if (res.status !== 201) throw new Error(`request creation failed: ${res.status} ${res.text}`);
  return res.json();
}
