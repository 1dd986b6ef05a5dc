/** Test identity providers: oidc-provider (npm) issuing JWT access tokens, and a bare JWKS server. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import Provider from 'oidc-provider';
import { SignJWT } from 'jose';
import { send } from '../../helpers/http.js';

export interface TestProvider {
  issuer: string;
  port: number;
  /** A JWT access token from the client credentials grant with a resource indicator. */
  token(scope?: string): Promise<string>;
  close(): Promise<void>;
}

export function ecKey(kid: string): { jwk: Record<string, unknown>; privateKey: KeyObject } {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { jwk: { ...privateKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' }, privateKey };
}

/** Start oidc-provider on `port` (0: any) signing access tokens with `keys` (the first signs). */
export async function startProvider(keys: Array<Record<string, unknown>>, port = 0): Promise<TestProvider> {
  // Bind first to learn the port: the issuer must be known when the provider is built.
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actual = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${actual}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'machine',
        client_secret: 'machine-secret-0123456789',
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_post',
        id_token_signed_response_alg: 'ES256',
      },
    ],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => 'urn:orders',
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'read write',
          audience: 'urn:orders',
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        }),
      },
    },
    jwks: { keys: keys as never },
    scopes: ['read', 'write'],
  });
  server.on('request', provider.callback());
  return {
    issuer,
    port: actual,
    async token(scope = 'read') {
      const res = await send(`${issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: 'machine',
          client_secret: 'machine-secret-0123456789',
          scope,
          resource: 'urn:orders',
        }).toString(),
      });
      const body = res.json() as { access_token?: string };
      if (!body.access_token) throw new Error(`provider refused: ${JSON.stringify(body)}`);
      return body.access_token;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface JwksServer {
  url: string;
  hits: number;
  close(): Promise<void>;
}

/** A plain JWKS endpoint that counts its hits. */
export async function startJwksServer(keys: Array<Record<string, unknown>>, maxAge?: number): Promise<JwksServer> {
  const state = { hits: 0 };
  const server = createServer((_req, res) => {
    state.hits++;
    const publicKeys = keys.map(({ d: _d, ...pub }) => pub);
    res.writeHead(200, {
      'content-type': 'application/json',
      ...(maxAge !== undefined ? { 'cache-control': `max-age=${maxAge}` } : {}),
    });
    res.end(JSON.stringify({ keys: publicKeys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  return {
    url,
    get hits() {
      return state.hits;
    },
    set hits(v) {
      state.hits = v;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function signWith(
  privateKey: KeyObject,
  kid: string,
  claims: Record<string, unknown>,
  exp = '1h',
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
    .setIssuedAt()
    .setExpirationTime(exp)
    .sign(privateKey);
}
