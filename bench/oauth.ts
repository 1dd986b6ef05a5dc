/**
 * Benchmark of the client credentials service: token issuance per signing algorithm and token
 * introspection, compared with jose's raw signing rate on this machine (one core, like the gateway).
 */
import { generateKeyPair as generateKeyPairCallback } from 'node:crypto';
import { promisify } from 'node:util';
import { SignJWT, importPKCS8 } from 'jose';
import type { Admin } from './scenarios.js';

const generateKeyPair = promisify(generateKeyPairCallback);

export const OAUTH_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;
const SECRET = 'bench-oauth-secret-0123456789';
const TOKEN_PATH = '/.well-known/otoroshi/oauth/token';
const INTROSPECT_PATH = '/.well-known/otoroshi/oauth/token/introspect';

export interface OAuthTarget {
  name: string;
  alg: string | null;
  url: string;
  headers: Record<string, string>;
  method: string;
  body: string;
}

async function must(admin: Admin, method: string, path: string, body: unknown): Promise<any> {
  const res = await admin(method, path, body);
  if (res.status >= 300) throw new Error(`bench setup: ${method} ${path} answered ${res.status}: ${res.text}`);
  return res.json();
}

/** Enable the service, one key pair and one API key per algorithm; returns the load targets. */
export async function setupOAuth(admin: Admin, proxyUrl: string): Promise<OAuthTarget[]> {
  const global = await must(admin, 'GET', '/api/global-config', undefined);
  await must(admin, 'PUT', '/api/global-config', {
    ...global,
    plugins: [...global.plugins, { plugin: 'client-credentials', config: { secure: false } }],
  });
  const form = { 'content-type': 'application/x-www-form-urlencoded', host: 'oauth.bench' };
  const targets: OAuthTarget[] = [];
  let es256Token = '';
  for (const alg of OAUTH_ALGORITHMS) {
    const id = `bench-${alg.toLowerCase()}`;
    await must(admin, 'POST', '/api/keypairs', { id, name: id, alg });
    await must(admin, 'POST', '/api/apikeys', {
      clientId: id,
      clientSecret: SECRET,
      clientName: id,
      scopes: ['read'],
      metadata: { 'jwt-sign-keypair': id },
    });
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: id,
      client_secret: SECRET,
    }).toString();
    targets.push({
      name: `token endpoint, ${alg}`,
      alg,
      url: `${proxyUrl}${TOKEN_PATH}`,
      headers: form,
      method: 'POST',
      body,
    });
    if (alg === 'ES256') {
      const res = await fetch(`${proxyUrl}${TOKEN_PATH}`, {
        method: 'POST',
        headers: { 'content-type': form['content-type'] },
        body,
      });
      es256Token = ((await res.json()) as { access_token: string }).access_token;
    }
  }
  targets.push({
    name: 'introspection (ES256 token)',
    alg: 'ES256',
    url: `${proxyUrl}${INTROSPECT_PATH}`,
    headers: form,
    method: 'POST',
    body: new URLSearchParams({ token: es256Token, client_id: 'bench-es256', client_secret: SECRET }).toString(),
  });
  return targets;
}

/** A raw rate: operations per second, and the CPU µs per operation of the whole process (every thread). */
export interface RawRate {
  perSecond: number;
  cpuUs: number;
}

/**
 * jose's raw signing rate (tokens/s) for `alg`, measured for `seconds` with `concurrency` signatures
 * in flight: WebCrypto signs on libuv's thread pool, so this is the most jose gets out of the machine.
 * The CPU is counted from the first signature (the key's generation and import left out).
 */
export async function joseSignRate(alg: string, seconds = 3, concurrency = 50): Promise<RawRate> {
  const type = alg === 'RS256' ? 'rsa' : alg === 'ES256' ? 'ec' : 'ed25519';
  const options = type === 'rsa' ? { modulusLength: 2048 } : type === 'ec' ? { namedCurve: 'prime256v1' } : {};
  const { privateKey } = (await generateKeyPair(
    type as 'rsa',
    {
      ...options,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    } as never,
  )) as unknown as { privateKey: string };
  const key = await importPKCS8(privateKey, alg);
  const payload = { iss: 'http://bench', sub: 'c', aud: 'http://bench', client_id: 'c', scope: 'read', jti: 'x' };
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const until = started + seconds * 1000;
  let count = 0;
  const worker = async () => {
    while (performance.now() < until) {
      await new SignJWT(payload)
        .setProtectedHeader({ alg, kid: 'k', typ: 'at+jwt' })
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(key);
      count++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const cpu = process.cpuUsage(cpuBefore);
  return { perSecond: count / ((performance.now() - started) / 1000), cpuUs: (cpu.user + cpu.system) / count };
}
