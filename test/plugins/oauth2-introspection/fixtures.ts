/**
 * An authorization server issuing opaque access tokens: oidc-provider (npm) with the client
 * credentials grant and RFC 7662 introspection, behind a counting front on the same port that can
 * also misbehave on the introspection path (5xx, garbage, silence, a reset connection).
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { send } from '../../helpers/http.js';

export const APP = { id: 'kyma-app', secret: 'kyma-app-secret-0123456789' };
/** The gateway's own client at the provider, for introspection. */
export const GATEWAY_CLIENT = { id: 'portcullis', secret: 'portcullis-secret-0123456789' };
export const GATEWAY_POST_CLIENT = { id: 'portcullis-post', secret: 'portcullis-post-secret-0123456789' };
/** Tokens asked with this scope expire after 2 s. */
export const SHORT_LIVED_SCOPE = 'short';

export type IntrospectionMode = 'up' | 'error' | 'garbage' | 'silent' | 'reset';

export interface OpaqueProvider {
  issuer: string;
  introspectionUrl: string;
  /** Introspection requests that reached the front. */
  introspections: number;
  /** Metadata documents served (RFC 8414 and OpenID). */
  discoveries: number;
  mode: IntrospectionMode;
  token(scope: string): Promise<string>;
  close(): Promise<void>;
}

export async function startOpaqueProvider(): Promise<OpaqueProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: APP.id,
        client_secret: APP.secret,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_post',
        id_token_signed_response_alg: 'ES256',
      },
      {
        client_id: GATEWAY_CLIENT.id,
        client_secret: GATEWAY_CLIENT.secret,
        grant_types: [],
        redirect_uris: [],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_basic',
        id_token_signed_response_alg: 'ES256',
      },
      {
        client_id: GATEWAY_POST_CLIENT.id,
        client_secret: GATEWAY_POST_CLIENT.secret,
        grant_types: [],
        redirect_uris: [],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_post',
        id_token_signed_response_alg: 'ES256',
      },
    ],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: () => Promise.resolve(true) },
    },
    ttl: {
      ClientCredentials: (_ctx: unknown, token: { scope?: string }) =>
        token.scope?.split(' ').includes(SHORT_LIVED_SCOPE) ? 2 : 600,
    },
    scopes: ['read', 'write', SHORT_LIVED_SCOPE],
    jwks: {
      keys: [
        {
          ...generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ format: 'jwk' }),
          kid: 'k1',
          alg: 'ES256',
          use: 'sig',
        },
      ],
    },
  });
  const callback = provider.callback();
  const front = { introspections: 0, discoveries: 0, mode: 'up' as IntrospectionMode };
  server.on('request', (req, res) => {
    if (req.url?.startsWith('/.well-known/')) front.discoveries++;
    if (req.url === '/token/introspection') {
      front.introspections++;
      if (front.mode === 'error') {
        res.writeHead(502, { 'content-type': 'text/html' });
        res.end('<h1>Bad Gateway</h1>');
        return;
      }
      if (front.mode === 'garbage') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html>maintenance</html>');
        return;
      }
      if (front.mode === 'silent') return; // never answers
      if (front.mode === 'reset') {
        req.socket.destroy();
        return;
      }
    }
    callback(req, res);
  });
  return {
    issuer,
    introspectionUrl: `${issuer}/token/introspection`,
    get introspections() {
      return front.introspections;
    },
    get discoveries() {
      return front.discoveries;
    },
    get mode() {
      return front.mode;
    },
    set mode(value) {
      front.mode = value;
    },
    async token(scope) {
      const res = await send(`${issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: APP.id,
          client_secret: APP.secret,
          scope,
        }).toString(),
      });
      const body = res.json() as { access_token?: string };
      if (!body.access_token) throw new Error(`provider refused: ${res.text}`);
      return body.access_token;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The Kyma tutorial's rules: GET on any path needs `read`, POST on `/post` needs `write`. */
export const KYMA_RULES = [
  { methods: ['GET'], path: '/.*', requiredScopes: ['read'] },
  { methods: ['POST'], path: '/post', requiredScopes: ['write'] },
];
