/**
 * The README section "Protect routes with tokens from your identity provider" runs as written
 * (test/helpers/markdown-shell.ts): the gateway introspects at its own `oauth2` route, so the
 * documented `http://localhost:8080` inside the route's configuration stands for the test proxy too.
 */
import 'reflect-metadata';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startGateway, ADMIN_PASSWORD, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { shellCommands, runShellCommands, readmeWorld } from '../../helpers/markdown-shell.js';

const README = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8');

describe('Plugin: oauth2-introspection (README walkthrough)', () => {
  let gw: TestGateway;
  let upstream: Upstream;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await startGateway();
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  it('every command answers as its comment says: Kyma rules, 401 and 403 challenges, revocation through Portcullis', async () => {
    const commands = shellCommands(README, { from: 'Protect routes with tokens from your identity provider', until: 'Use Portcullis as nginx' });
    assert.ok(commands.some((c) => c.text.includes('/oauth2/revoke')), 'the section revokes a token');
    // The gateway calls the documented origin itself: it names the test proxy (by `localhost`, as the route's domain expects).
    const proxyAsUpstream = { url: `http://localhost:${new URL(gw.proxyUrl).port}`, received: [] } as unknown as Upstream;
    const requests = await runShellCommands(commands, readmeWorld(gw, upstream, { upstreams: { 'http://localhost:8080': proxyAsUpstream }, vars: new Map([['PORTCULLIS_PW', ADMIN_PASSWORD]]) }));
    assert.ok(requests >= 11, `only ${requests} requests ran`);
    const seen = upstream.received.find((r) => r.url === '/headers');
    assert.equal(seen?.headers['x-authenticated-scope'], 'read');
  });
});
