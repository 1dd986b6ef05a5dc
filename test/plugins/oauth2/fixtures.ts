/**
 * Kong's tutorial cast on loopback: the API "Step On" behind a route with the `oauth2` plugin, the
 * third-party application "Shoe Fly Shoe" as API keys (a confidential and a public client), and the
 * provider's own web app, which logs the user in and calls `/oauth2/authorize` with the provision key.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGateway, createRoute, route, type TestGateway, type StartOptions } from '../../helpers/gateway.js';
import type { Upstream } from '../../helpers/upstream.js';
import { send, basic, type TestResponse } from '../../helpers/http.js';

export const PROVISION_KEY = 'provision-key-0123456789abcdef-0123456789';
export const SECRET = 'shoefly-secret-0123456789abcdef';
export const REDIRECT_URI = 'https://shoefly.test/callback';
export const HOST = 'stepon.test';
export const OTHER_HOST = 'other.test';

export async function stepOnGateway(
  upstream: Upstream,
  options: StartOptions & { pluginConfig?: Record<string, unknown> } = {},
): Promise<TestGateway> {
  const gw = await startGateway(options);
  if (options.dataDir && (await gw.admin('GET', '/api/routes/stepon')).status === 200) return gw;
  const plugin = {
    plugin: 'oauth2',
    config: { provisionKey: PROVISION_KEY, scopes: ['email', 'orders'], requireHttps: false, ...options.pluginConfig },
  };
  await createRoute(gw, route('stepon', upstream.url, { frontend: { domains: [HOST] }, plugins: [plugin] }));
  await createRoute(gw, route('other', upstream.url, { frontend: { domains: [OTHER_HOST] }, plugins: [plugin] }));
  for (const body of [
    { clientId: 'shoefly', clientSecret: SECRET, clientName: 'Shoe Fly Shoe', redirectUris: [REDIRECT_URI] },
    {
      clientId: 'shoefly-spa',
      clientType: 'public',
      clientName: 'Shoe Fly Shoe SPA',
      redirectUris: [REDIRECT_URI, 'https://shoefly.test/other'],
    },
  ]) {
    const created = await gw.admin('POST', '/api/apikeys', body);
    if (created.status !== 201) throw new Error(created.text);
  }
  return gw;
}

export function form(params: Record<string, string | undefined>): string {
  const defined = Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined);
  return new URLSearchParams(defined).toString();
}

export function post(
  gw: TestGateway,
  path: string,
  params: Record<string, string | undefined>,
  headers: Record<string, string> = {},
  host = HOST,
): Promise<TestResponse> {
  return gw.proxy(path, {
    method: 'POST',
    host,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: form(params),
  });
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export const confidential = { authorization: basic('shoefly', SECRET) };

/** Exchange a code as the confidential client. */
export function exchange(
  gw: TestGateway,
  code: string,
  extra: Record<string, string | undefined> = {},
  host = HOST,
): Promise<TestResponse> {
  return post(
    gw,
    '/v1/oauth2/token',
    { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, ...extra },
    confidential,
    host,
  );
}

export function refresh(gw: TestGateway, refreshToken: string): Promise<TestResponse> {
  return post(gw, '/v1/oauth2/token', { grant_type: 'refresh_token', refresh_token: refreshToken }, confidential);
}

/**
 * The provider's web app ("Step On"): a user is logged in (here, named by the `user` query) and
 * consents; the app asks the gateway for a code with its provision key and redirects the browser.
 */
export interface ProviderApp {
  url: string;
  close(): Promise<void>;
}

export async function startProviderApp(gatewayUrl: string, host = HOST): Promise<ProviderApp> {
  const server: Server = createServer((req, res) => {
    void answerConsent(req, res);
  });
  async function answerConsent(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const asked = new URL(req.url ?? '/', 'http://provider.test');
    const params = new URLSearchParams(asked.search);
    const user = params.get('user') ?? '';
    params.delete('user');
    params.set('provision_key', PROVISION_KEY);
    params.set('authenticated_userid', user);
    const answer = await send(`${gatewayUrl}/v1/oauth2/authorize`, {
      method: 'POST',
      headers: { host, 'content-type': 'application/x-www-form-urlencoded' },
      body: params.toString(),
    });
    if (answer.status !== 200) {
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(answer.text);
      return;
    }
    res.writeHead(302, { location: answer.json().redirect_uri });
    res.end();
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/consent`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The browser's trip through the provider app: the redirect it ends on. */
export async function consent(
  app: ProviderApp,
  user: string,
  params: Record<string, string | undefined>,
): Promise<URL> {
  const res = await send(`${app.url}?${form({ user, ...params })}`);
  if (res.status !== 302) throw new Error(`consent failed: ${res.status} ${res.text}`);
  return new URL(String(res.headers.location));
}

/** A code for `user` through the provider app. */
export async function codeFor(
  app: ProviderApp,
  user: string,
  extra: Record<string, string | undefined> = {},
): Promise<string> {
  const location = await consent(app, user, {
    client_id: 'shoefly',
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    ...extra,
  });
  const code = location.searchParams.get('code');
  if (!code) throw new Error(`no code: ${location.href}`);
  return code;
}
