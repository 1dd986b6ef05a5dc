/**
 * Benchmark of the `jwt-verifier` plugin: RS256 and ES256 routes with and without the verified-token
 * cache, and jose's raw verification rate for the same tokens (the ceiling without a cache).
 */
import { createPublicKey } from 'node:crypto';
import { jwtVerify } from 'jose';
import type { Admin } from './scenarios.js';

const SECRET = 'bench-oauth-secret-0123456789';

export interface JwtTarget {
  name: string;
  alg: 'RS256' | 'ES256';
  cached: boolean;
  url: string;
  headers: Record<string, string>;
}

async function must(admin: Admin, method: string, path: string, body?: unknown): Promise<any> {
  const res = await admin(method, path, body);
  if (res.status >= 300) throw new Error(`bench setup: ${method} ${path} answered ${res.status}: ${res.text}`);
  return res.json();
}

/** Needs `setupOAuth` first (its key pairs and API keys issue the tokens). */
export async function setupJwt(
  admin: Admin,
  proxyUrl: string,
  upstreamUrl: string,
): Promise<{ targets: JwtTarget[]; tokens: Record<string, { token: string; publicJwk: Record<string, unknown> }> }> {
  await must(admin, 'POST', '/api/jwt-verifiers', {
    id: 'bench-gateway',
    name: 'bench',
    keys: { kind: 'keypairs' },
    algorithms: ['RS256', 'ES256'],
    typ: 'at+jwt',
  });
  const targets: JwtTarget[] = [];
  const tokens: Record<string, { token: string; publicJwk: Record<string, unknown> }> = {};
  for (const alg of ['RS256', 'ES256'] as const) {
    const client = `bench-${alg.toLowerCase()}`;
    const res = await fetch(`${proxyUrl}/.well-known/otoroshi/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', host: 'oauth.bench' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: client, client_secret: SECRET }),
    });
    const token = ((await res.json()) as { access_token: string }).access_token;
    tokens[alg] = { token, publicJwk: (await must(admin, 'GET', `/api/keypairs/${client}`)).publicJwk };
    for (const cached of [true, false]) {
      const id = `bench-jwt-${alg.toLowerCase()}-${cached ? 'cache' : 'nocache'}`;
      await must(admin, 'POST', '/api/routes', {
        id,
        name: id,
        frontend: { domains: [`${id}.bench`] },
        backend: { targets: [{ url: upstreamUrl }] },
        plugins: [
          {
            plugin: 'jwt-verifier',
            config: {
              verifiers: ['bench-gateway'],
              rules: [{ path: '/.*', requiredScopes: ['read'] }],
              cache: { enabled: cached },
            },
          },
        ],
      });
      targets.push({
        name: `gateway: route + jwt-verifier ${alg}, ${cached ? 'cache' : 'no cache'}`,
        alg,
        cached,
        url: `${proxyUrl}/`,
        headers: { host: `${id}.bench`, authorization: `Bearer ${token}` },
      });
    }
  }
  return { targets, tokens };
}

/** jose's verification rate (tokens/s) with `concurrency` verifications in flight. */
export async function joseVerifyRate(
  token: string,
  publicJwk: Record<string, unknown>,
  alg: string,
  seconds = 3,
  concurrency = 50,
): Promise<number> {
  const key = createPublicKey({ key: publicJwk as never, format: 'jwk' });
  const started = performance.now();
  const until = started + seconds * 1000;
  let count = 0;
  const worker = async () => {
    while (performance.now() < until) {
      await jwtVerify(token, key, { algorithms: [alg] });
      count++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return count / ((performance.now() - started) / 1000);
}
