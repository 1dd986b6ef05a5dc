/**
 * Issue 21: an `authenticated_userid` that cannot be a header value (`山田`, an emoji, U+2028,
 * CR/LF, NUL, a very long one) was accepted at authorize, then every request of that user answered
 * 502, logged as an upstream failure. It is refused where the provider's backend sends it (authorize,
 * the password grant) with 400 `invalid_request` naming the field; client names outside ASCII reach
 * the upstream percent-encoded.
 */
import 'reflect-metadata';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { stepOnGateway, post, exchange, confidential, HOST, PROVISION_KEY, REDIRECT_URI, SECRET } from './fixtures.js';
import { basic } from '../../helpers/http.js';

/** User ids HTTP cannot carry as they are, by what is wrong with them. */
const REFUSED: ReadonlyArray<[string, string]> = [
  ['Japanese characters', '山田'],
  ['an emoji', 'alice😀'],
  ['U+2028 (line separator)', 'alice\u2028bob'],
  ['CR/LF (a header split)', 'alice\r\nX-Admin: true'],
  ['NUL', 'alice\u0000'],
  ['a space', 'alice smith'],
  ['256 characters', 'a'.repeat(256)],
];

describe('Plugin: oauth2 (authenticated_userid must be a header value)', () => {
  let gw: TestGateway;
  let upstream: Upstream;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await stepOnGateway(upstream, { pluginConfig: { enablePasswordGrant: true, enableImplicitGrant: true } });
    const created = await gw.admin('POST', '/api/apikeys', {
      clientId: 'kutsuya',
      clientSecret: SECRET,
      clientName: '靴屋 Ünïcode',
      redirectUris: [REDIRECT_URI],
    });
    assert.equal(created.status, 201, created.text);
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  const authorize = (userId: string, extra: Record<string, string> = {}) =>
    post(gw, '/v1/oauth2/authorize', {
      client_id: 'shoefly',
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      provision_key: PROVISION_KEY,
      authenticated_userid: userId,
      scope: 'email',
      ...extra,
    });
  const api = (token: string) => gw.proxy('/v1/orders', { host: HOST, headers: { authorization: `Bearer ${token}` } });

  function assertRefusesUserId(res: { status: number; json(): { error?: string; error_description?: string } }): void {
    assert.equal(res.status, 400);
    assert.equal(res.json().error, 'invalid_request');
    assert.match(res.json().error_description ?? '', /authenticated_userid/);
  }

  for (const [what, userId] of REFUSED) {
    it(`authorize refuses an authenticated_userid with ${what}: 400 invalid_request naming the field`, async () => {
      assertRefusesUserId(await authorize(userId));
      assertRefusesUserId(await authorize(userId, { response_type: 'token' }));
    });
    it(`grant_type=password refuses an authenticated_userid with ${what}`, async () => {
      assertRefusesUserId(
        await post(
          gw,
          '/v1/oauth2/token',
          { grant_type: 'password', provision_key: PROVISION_KEY, authenticated_userid: userId, scope: 'email' },
          confidential,
        ),
      );
    });
  }

  it('accepts 255 visible ASCII characters and sends them upstream unchanged', async () => {
    const userId = `${'a'.repeat(200)}!"#$%&'()*+,-./:;<=>?@[\\]^_\`{|}~`.slice(0, 255);
    const answer = await authorize(userId);
    assert.equal(answer.status, 200, answer.text);
    const code = new URL(answer.json().redirect_uri).searchParams.get('code')!;
    const tokens = await exchange(gw, code);
    assert.equal(tokens.status, 200, tokens.text);
    const seen = await api(tokens.json().access_token);
    assert.equal(seen.status, 200, seen.text);
    assert.equal(seen.json().headers['x-authenticated-userid'], userId);
  });

  it('a client name outside ASCII reaches the upstream as percent-encoded UTF-8 in X-Consumer-Username, not a 502', async () => {
    const tokens = await post(
      gw,
      '/v1/oauth2/token',
      { grant_type: 'password', provision_key: PROVISION_KEY, authenticated_userid: 'alice', scope: 'email' },
      { authorization: basic('kutsuya', SECRET) },
    );
    assert.equal(tokens.status, 200, tokens.text);
    const seen = await api(tokens.json().access_token);
    assert.equal(seen.status, 200, seen.text);
    const name = seen.json().headers['x-consumer-username'];
    assert.equal(name, '%E9%9D%B4%E5%B1%8B%20%C3%9Cn%C3%AFcode');
    assert.equal(decodeURIComponent(name), '靴屋 Ünïcode');
  });
});
