/**
 * The README's API-portal tutorial runs as written (profile, tokens, request, refused early token,
 * approval, token, call, audit trail, rejection, revocation), after the sections it continues from.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startGateway, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { shellCommands, runShellCommands, readmeWorld, type ShellWorld } from '../../helpers/markdown-shell.js';

const README = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8');

describe('Plugin: access-requests (README tutorial)', () => {
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

  it('every command of the portal tutorial answers as its comment says', async () => {
    const world: ShellWorld = readmeWorld(gw, upstream);
    await runShellCommands(shellCommands(README, { until: 'Scopes per route and method' }), world);
    const tutorial = shellCommands(README, { from: 'The API portal: access requests', until: 'Tests' });
    assert.ok(tutorial.some((c) => c.text.includes('/reject') && c.comment.startsWith('409')), 'the tutorial shows a forbidden transition');
    assert.ok(await runShellCommands(tutorial, world) >= 17);
    const requests = JSON.parse((await gw.admin('GET', '/api/access-requests')).text) as Array<{ state: string; history: unknown[] }>;
    assert.deepEqual(requests.map((r) => [r.state, r.history.length]), [['revoked', 3], ['rejected', 2]]);
    assert.ok(upstream.received.some((r) => r.headers['x-consumer-name'] === 'Acme Corp' && r.headers['x-consumer-scopes'] === 'read'), 'the upstream saw the approved consumer');
  });
});
