/**
 * Benchmark of the `oauth2-introspection` plugin with a warm cache: the gateway's own `oauth2` route
 * issues an opaque client-credentials token and introspects it (once); the measured route then
 * serves every request from the cached response, checked again each time (Kyma's `read` rule).
 * The `oauth2` route itself is measured too: the same opaque token, looked up in the state store on
 * every request.
 */
import { request } from 'undici';
import type { Admin } from './scenarios.js';
import type { Target } from './harness.js';

const PROVISION_KEY = 'bench-provision-key-0123456789abcdef-0123';
const APP = { clientId: 'bench-introspection-app', clientSecret: 'bench-introspection-secret-0123' };
const RESOURCE_SERVER = { clientId: 'bench-introspector', clientSecret: 'bench-introspector-secret-0123' };

async function must(admin: Admin, method: string, path: string, body?: unknown): Promise<any> {
  const res = await admin(method, path, body);
  if (res.status >= 300) throw new Error(`bench setup: ${method} ${path} answered ${res.status}: ${res.text}`);
  return res.json();
}

export async function setupIntrospection(
  admin: Admin,
  proxyUrl: string,
  upstreamUrl: string,
): Promise<{ introspection: Target; oauth2Route: Target }> {
  // The gateway calls its own proxy listener (127.0.0.1:<port>) for introspection.
  await must(admin, 'POST', '/api/routes', {
    id: 'bench-idp',
    name: 'bench-idp',
    frontend: { domains: ['127.0.0.1/idp'] },
    backend: { targets: [{ url: upstreamUrl }] },
    plugins: [
      {
        plugin: 'oauth2',
        config: {
          provisionKey: PROVISION_KEY,
          scopes: ['read'],
          enableClientCredentials: true,
          requireHttps: false,
          tokenExpirationSeconds: 86_400,
        },
      },
    ],
  });
  for (const client of [APP, RESOURCE_SERVER])
    await must(admin, 'POST', '/api/apikeys', { ...client, clientName: client.clientId });
  await must(admin, 'POST', '/api/routes', {
    id: 'bench-introspection',
    name: 'bench-introspection',
    frontend: { domains: ['introspection.bench'] },
    backend: { targets: [{ url: upstreamUrl }] },
    plugins: [
      {
        plugin: 'oauth2-introspection',
        config: {
          introspectionUrl: `${proxyUrl}/idp/oauth2/introspect`,
          ...RESOURCE_SERVER,
          rules: [{ path: '/.*', requiredScopes: ['read'] }],
          cache: { ttlSeconds: 3600 },
        },
      },
    ],
  });
  const res = await fetch(`${proxyUrl}/idp/oauth2/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: 'Basic ' + Buffer.from(`${APP.clientId}:${APP.clientSecret}`).toString('base64'),
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'read' }),
  });
  const token = ((await res.json()) as { access_token: string }).access_token;
  const headers = { host: 'introspection.bench', authorization: `Bearer ${token}` };
  // Warm the cache: the load measures cached responses, not the introspection endpoint.
  await mustAnswer200(`${proxyUrl}/`, headers);
  const oauth2Headers = { authorization: `Bearer ${token}` };
  await mustAnswer200(`${proxyUrl}/idp/`, oauth2Headers);
  return {
    introspection: { name: 'gateway: route + oauth2-introspection, warm cache', url: `${proxyUrl}/`, headers },
    oauth2Route: { name: 'gateway: route + oauth2 (opaque token)', url: `${proxyUrl}/idp/`, headers: oauth2Headers },
  };
}

async function mustAnswer200(url: string, headers: Record<string, string>): Promise<void> {
  // undici's request: fetch would drop the Host header.
  const res = await request(url, { headers });
  const text = await res.body.text();
  if (res.statusCode !== 200)
    throw new Error(`bench setup: ${url} (${headers.host ?? 'no Host'}) answered ${res.statusCode}: ${text}`);
}
