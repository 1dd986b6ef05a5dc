/** The plugin README's examples run as written, the upstream verifying each token as the README's snippet does. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { startGateway, ADMIN_PASSWORD, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, type Upstream } from '../../helpers/upstream.js';
import { shellCommands, runShellCommands, readmeWorld } from '../../helpers/markdown-shell.js';

const README = readFileSync(new URL('../../../../plugins/upstream-jwt/README.md', import.meta.url), 'utf8');

describe('Plugin: upstream-jwt (README)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  before(async () => {
    let jwks: ReturnType<typeof createRemoteJWKSet> | null = null;
    // The README's upstream, with the documented gateway origin mapped to the test gateway.
    upstream = await startUpstream((req, res) => {
      jwks ??= createRemoteJWKSet(new URL(`${gw.proxyUrl}/.well-known/otoroshi/oauth/jwks.json`));
      jwtVerify(String(req.headers['x-portcullis-jwt']), jwks, {
        issuer: 'http://localhost:8080',
        audience: 'orders',
        maxTokenAge: '2 min',
      })
        .then(({ payload }) => {
          if (payload.htm !== req.method || payload.htu !== req.url) throw new Error('a token for another request');
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ caller: payload.sub }));
        })
        .catch(() => {
          res.writeHead(401).end();
        });
    });
    gw = await startGateway();
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  it('every example answers as its comment says', async () => {
    const commands = shellCommands(README);
    assert.ok(commands.some((c) => c.comment.startsWith('409')) && commands.some((c) => c.comment.startsWith('400')));
    const requests = await runShellCommands(
      commands,
      readmeWorld(gw, upstream, { vars: new Map([['PORTCULLIS_PW', ADMIN_PASSWORD]]) }),
    );
    assert.ok(requests >= 8, `only ${requests} requests ran`);
    assert.ok(upstream.received.length >= 2, 'the upstream verified the proxied requests');
  });
});
