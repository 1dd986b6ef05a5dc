/**
 * Regression (issue 10, item 9): the token issuer and audience followed the client's Host header
 * (any client picked its own `iss`) and the metadata was cached publicly without `Vary`. The
 * issuer now comes from configuration (`issuer`, else `proxy.publicUrl`, else the listener's
 * address); it follows Host only with `issuerFromHost`, and only for the hosts of `domain`.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { loadBootConfig, ConfigError } from '../../../core/config/boot-config.js';
import type { TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { oauthGateway, form, SECRET, TOKEN_PATH, JWKS_PATH } from './fixtures.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const METADATA_PATH = '/.well-known/oauth-authorization-server';
const TOKEN_REQUEST = form({ grant_type: 'client_credentials', client_id: 'cc-client', client_secret: SECRET });

async function tokenVia(gw: TestGateway, host: string): Promise<string> {
  const res = await gw.proxy(TOKEN_PATH, { method: 'POST', host, headers: FORM, body: TOKEN_REQUEST });
  assert.equal(res.status, 200, res.text);
  return res.json().access_token;
}

async function setPluginConfig(gw: TestGateway, config: Record<string, unknown>) {
  const global = (await gw.admin('GET', '/api/global-config')).json();
  return gw.admin('PUT', '/api/global-config', {
    ...global,
    plugins: [{ plugin: 'client-credentials', config: { secure: false, ...config } }],
  });
}

describe('Plugin: client-credentials (issuer from configuration)', () => {
  let gw: TestGateway;
  let upstream: Upstream;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await oauthGateway(upstream);
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  it('a forged Host cannot change iss or aud: tokens verify with jose against the configured issuer', async () => {
    const jwks = createRemoteJWKSet(new URL(`${gw.proxyUrl}${JWKS_PATH}`));
    for (const host of ['api.test', 'evil.example', 'evil.example:4443', gw.proxyUrl.slice('http://'.length)]) {
      const token = await tokenVia(gw, host);
      const { payload } = await jwtVerify(token, jwks, { issuer: gw.proxyUrl, audience: gw.proxyUrl, typ: 'at+jwt' });
      assert.equal(payload.iss, gw.proxyUrl, host);
    }
  });

  it('publishes the configured issuer and its endpoints in the metadata, whatever the Host, without Vary', async () => {
    const res = await gw.proxy(METADATA_PATH, { host: 'evil.example' });
    assert.equal(res.status, 200);
    const meta = res.json();
    assert.equal(meta.issuer, gw.proxyUrl);
    assert.equal(meta.token_endpoint, `${gw.proxyUrl}${TOKEN_PATH}`);
    assert.equal(meta.jwks_uri, `${gw.proxyUrl}${JWKS_PATH}`);
    assert.equal(res.headers.vary, undefined);
  });

  it("uses the plugin's issuer when set, for tokens, audience and metadata", async () => {
    assert.equal((await setPluginConfig(gw, { issuer: 'https://auth.example.com/' })).status, 200);
    const claims = decodeJwt(await tokenVia(gw, 'evil.example'));
    assert.equal(claims.iss, 'https://auth.example.com');
    assert.equal(claims.aud, 'https://auth.example.com');
    const meta = (await gw.proxy(METADATA_PATH, { host: 'evil.example' })).json();
    assert.equal(meta.issuer, 'https://auth.example.com');
    assert.equal(meta.introspection_endpoint, 'https://auth.example.com/.well-known/otoroshi/oauth/token/introspect');
  });

  it('derives the issuer from Host with issuerFromHost, only on the hosts of domain, with Vary: Host', async () => {
    assert.equal(
      (await setPluginConfig(gw, { issuerFromHost: true, domain: 'auth\\.a\\.test|auth\\.b\\.test' })).status,
      200,
    );
    assert.equal(decodeJwt(await tokenVia(gw, 'auth.a.test')).iss, 'http://auth.a.test');
    assert.equal(decodeJwt(await tokenVia(gw, 'AUTH.B.TEST:8080')).iss, 'http://auth.b.test:8080');
    assert.equal(
      decodeJwt(await tokenVia(gw, 'auth.b.test:80')).iss,
      'http://auth.b.test',
      'the default port is not part of the issuer',
    );
    const elsewhere = await gw.proxy(TOKEN_PATH, {
      method: 'POST',
      host: 'evil.example',
      headers: FORM,
      body: TOKEN_REQUEST,
    });
    assert.equal(elsewhere.status, 404, 'no token endpoint on a host outside domain');
    const meta = await gw.proxy(METADATA_PATH, { host: 'auth.a.test' });
    assert.equal(meta.json().issuer, 'http://auth.a.test');
    assert.equal(meta.json().token_endpoint, `http://auth.a.test${TOKEN_PATH}`);
    assert.equal(meta.headers.vary, 'Host');
  });

  it('refuses issuerFromHost with domain "*", and with a fixed issuer, at write time', async () => {
    const anyHost = await setPluginConfig(gw, { issuerFromHost: true });
    assert.equal(anyHost.status, 400);
    assert.ok(
      anyHost.json().details.some((d: { path: string }) => d.path === '/plugins/0/config/issuerFromHost'),
      anyHost.text,
    );
    const both = await setPluginConfig(gw, {
      issuerFromHost: true,
      domain: 'auth\\.a\\.test',
      issuer: 'https://auth.example.com',
    });
    assert.equal(both.status, 400);
    assert.ok(
      both.json().details.some((d: { path: string }) => d.path === '/plugins/0/config/issuer'),
      both.text,
    );
    const notUrl = await setPluginConfig(gw, { issuer: 'http://[::1' });
    assert.equal(notUrl.status, 400, 'an issuer that does not parse as a URL is refused, not a 500 later');
  });
});

describe('Plugin: client-credentials (proxy.publicUrl)', () => {
  let gw: TestGateway;
  let upstream: Upstream;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await oauthGateway(upstream, { config: { proxy: { publicUrl: 'https://gateway.example.com/' } } });
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  it('is the default issuer, without its trailing slash', async () => {
    const claims = decodeJwt(await tokenVia(gw, 'api.test'));
    assert.equal(claims.iss, 'https://gateway.example.com');
    assert.equal((await gw.proxy(METADATA_PATH)).json().token_endpoint, `https://gateway.example.com${TOKEN_PATH}`);
  });

  it('is read from PORTCULLIS_PUBLIC_URL, and one that is not a URL stops start-up', () => {
    assert.equal(
      loadBootConfig({ env: { PORTCULLIS_PUBLIC_URL: 'https://api.example.com' } }).proxy.publicUrl,
      'https://api.example.com',
    );
    assert.throws(() => loadBootConfig({ env: { PORTCULLIS_PUBLIC_URL: 'http://[::1' } }), ConfigError);
    assert.throws(() => loadBootConfig({ env: { PORTCULLIS_PUBLIC_URL: 'ftp://api.example.com' } }), ConfigError);
  });
});
