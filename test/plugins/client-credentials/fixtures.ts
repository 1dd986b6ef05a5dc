/** A gateway with the client credentials service on, a protected route and two API keys. */
import { startGateway, createRoute, route, type TestGateway, type StartOptions } from '../../helpers/gateway.js';
import type { Upstream } from '../../helpers/upstream.js';

export const SECRET = 'client-secret-0123456789abcdef';

export async function oauthGateway(
  upstream: Upstream,
  options: StartOptions & { pluginConfig?: Record<string, unknown> } = {},
): Promise<TestGateway> {
  const gw = await startGateway(options);
  const global = (await gw.admin('GET', '/api/global-config')).json();
  const res = await gw.admin('PUT', '/api/global-config', {
    ...global,
    plugins: [{ plugin: 'client-credentials', config: { secure: false, ...options.pluginConfig } }],
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
  const pair = await gw.admin('POST', '/api/keypairs', { id: 'es-pair', name: 'ES256 pair', alg: 'ES256' });
  if (pair.status !== 201) throw new Error(pair.text);
  for (const body of [
    {
      clientId: 'cc-client',
      clientSecret: SECRET,
      clientName: 'Machine client',
      scopes: ['read', 'write'],
      authorizedEntities: ['orders'],
      metadata: { 'jwt-sign-keypair': 'es-pair' },
    },
    {
      clientId: 'default-client',
      clientSecret: SECRET,
      clientName: 'Default client',
      scopes: ['read'],
      authorizedEntities: ['orders'],
    },
    { clientId: 'other-client', clientSecret: SECRET, clientName: 'Other client', scopes: [], authorizedEntities: [] },
  ]) {
    const created = await gw.admin('POST', '/api/apikeys', body);
    if (created.status !== 201) throw new Error(created.text);
  }
  return gw;
}

export const TOKEN_PATH = '/.well-known/otoroshi/oauth/token';
export const INTROSPECT_PATH = '/.well-known/otoroshi/oauth/token/introspect';
export const REVOKE_PATH = '/.well-known/otoroshi/oauth/token/revoke';
export const JWKS_PATH = '/.well-known/otoroshi/oauth/jwks.json';

export function form(params: Record<string, string>): string {
  return new URLSearchParams(params).toString();
}

export async function tokenFor(gw: TestGateway, clientId: string, extra: Record<string, string> = {}): Promise<string> {
  const res = await gw.proxy(TOKEN_PATH, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form({ grant_type: 'client_credentials', client_id: clientId, client_secret: SECRET, ...extra }),
  });
  if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${res.text}`);
  return res.json().access_token;
}
