import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { basic } from '../../helpers/http.js';
import { parseExposition } from '../../helpers/prometheus.js';
import { oauthGateway, form, tokenFor, SECRET, TOKEN_PATH, INTROSPECT_PATH, REVOKE_PATH } from './fixtures.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('Plugin: client-credentials (metrics)', () => {
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

  it('counts issued tokens by grant type, introspections by outcome and revocations, and its endpoints as sink traffic', async () => {
    const token = await tokenFor(gw, 'cc-client');
    const post = (path: string, body: string) =>
      gw.proxy(path, { method: 'POST', headers: { ...FORM, authorization: basic('cc-client', SECRET) }, body });
    assert.equal((await post(INTROSPECT_PATH, form({ token }))).json().active, true);
    assert.equal((await post(INTROSPECT_PATH, form({ token: 'not-a-token' }))).json().active, false);
    assert.equal((await post(REVOKE_PATH, form({ token }))).status, 200);
    const refused = await gw.proxy(TOKEN_PATH, {
      method: 'POST',
      headers: FORM,
      body: form({ grant_type: 'client_credentials', client_id: 'cc-client', client_secret: 'wrong' }),
    });
    assert.equal(refused.status, 401);
    const parsed = parseExposition((await gw.admin('GET', '/metrics')).text);
    assert.equal(
      parsed.value('portcullis_tokens_issued_total', {
        plugin: 'client-credentials',
        grant_type: 'client_credentials',
      }),
      1,
    );
    assert.equal(
      parsed.value('portcullis_token_introspections_total', { plugin: 'client-credentials', active: 'true' }),
      1,
    );
    assert.equal(
      parsed.value('portcullis_token_introspections_total', { plugin: 'client-credentials', active: 'false' }),
      1,
    );
    assert.equal(parsed.value('portcullis_token_revocations_total', { plugin: 'client-credentials' }), 1);
    // every series of the fixed enumerations exists from the start, at zero
    assert.equal(parsed.value('portcullis_tokens_issued_total', { plugin: 'oauth2', grant_type: 'refresh_token' }), 0);
    assert.equal(
      parsed.find('portcullis_tokens_issued_total', { plugin: 'oauth2', grant_type: 'refresh_token' }).length,
      1,
    );
    // the sink's traffic: answered (200s) and refused (the wrong secret)
    assert.equal(
      parsed.value('portcullis_requests_total', {
        route: '(sink)',
        decision: 'answered',
        plugin: 'client-credentials',
        status_class: '2xx',
      }),
      4,
    );
    assert.equal(
      parsed.value('portcullis_requests_total', {
        route: '(sink)',
        decision: 'denied',
        plugin: 'client-credentials',
        status_class: '4xx',
      }),
      1,
    );
  });
});
