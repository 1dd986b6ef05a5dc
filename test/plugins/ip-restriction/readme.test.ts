/** The plugin README's examples run as written, against a gateway trusting 127.0.0.1 as its load balancer. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startGateway, ADMIN_PASSWORD, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { shellCommands, runShellCommands, readmeWorld } from '../../helpers/markdown-shell.js';

const README = readFileSync(new URL('../../../../plugins/ip-restriction/README.md', import.meta.url), 'utf8');

describe('Plugin: ip-restriction (README)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  before(async () => {
    upstream = await startUpstream(echo);
    gw = await startGateway({ config: { proxy: { trustedProxies: ['127.0.0.1'] } } });
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  it('every example answers as its comment says', async () => {
    const commands = shellCommands(README);
    assert.ok(
      commands.some((c) => c.comment.startsWith('403 ip_not_allowed')) &&
        commands.some((c) => c.comment.startsWith('400')),
    );
    const requests = await runShellCommands(
      commands,
      readmeWorld(gw, upstream, { vars: new Map([['PORTCULLIS_PW', ADMIN_PASSWORD]]) }),
    );
    assert.ok(requests >= 9, `only ${requests} requests ran`);
  });
});
