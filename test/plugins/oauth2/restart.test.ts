import 'reflect-metadata';
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startUpstream, echo } from '../../helpers/upstream.js';
import { stepOnGateway, startProviderApp, codeFor, exchange, refresh, HOST } from './fixtures.js';

describe('Plugin: oauth2 (state across restarts)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-oauth2-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('keeps tokens, refresh rotation and code reuse detection across a restart of the embedded engine', async () => {
    const upstream = await startUpstream(echo);
    let gw = await stepOnGateway(upstream, { dataDir });
    let app = await startProviderApp(gw.proxyUrl);
    const code = await codeFor(app, 'alice');
    const tokens = (await exchange(gw, code)).json();
    await app.close();
    await gw.close({ keepData: true });

    gw = await stepOnGateway(upstream, { dataDir });
    app = await startProviderApp(gw.proxyUrl);
    try {
      const called = await gw.proxy('/v1/orders', {
        host: HOST,
        headers: { authorization: `Bearer ${tokens.access_token}` },
      });
      assert.equal(called.status, 200);
      assert.equal(called.json().headers['x-authenticated-userid'], 'alice');
      const renewed = await refresh(gw, tokens.refresh_token);
      assert.equal(renewed.status, 200, renewed.text);
      // The code was spent before the restart: a second use still revokes what it issued.
      assert.equal((await exchange(gw, code)).json().error, 'invalid_grant');
      const after = await gw.proxy('/v1/orders', {
        host: HOST,
        headers: { authorization: `Bearer ${renewed.json().access_token}` },
      });
      assert.equal(after.status, 401);
    } finally {
      await app.close();
      await gw.close();
      await upstream.close();
    }
  });
});
