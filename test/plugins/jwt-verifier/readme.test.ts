/**
 * The plugin README's example runs literally (same domains, rules and requests, the trailing comments
 * as expected outcomes) against a real gateway and upstream, on the state the client credentials
 * guide leaves (the service on, the `partner` key with the scopes `read` and `write`). Regression for
 * issue 10, item 2: the scopes examples refused every POST.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startGateway, ADMIN_PASSWORD, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { shellCommands, runShellCommands, readmeWorld, type ShellWorld } from '../../helpers/markdown-shell.js';

const JWT_VERIFIER_README = readFileSync(
  new URL('../../../../plugins/jwt-verifier/README.md', import.meta.url),
  'utf8',
);

describe('Plugin: jwt-verifier (README)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  const world = (): ShellWorld => readmeWorld(gw, upstream);

  before(async () => {
    upstream = await startUpstream(echo);
  });
  after(async () => {
    await upstream.close();
  });

  describe('the scopes-per-method example', () => {
    before(async () => {
      gw = await startGateway();
      // What the client credentials guide sets up before it.
      assert.equal(
        (
          await gw.admin('PUT', '/api/global-config', {
            plugins: [{ plugin: 'client-credentials', config: { secure: false } }],
          })
        ).status,
        200,
      );
      const partner = await gw.admin('POST', '/api/apikeys', {
        clientId: 'partner',
        clientSecret: 'partner-secret-0123456789',
        clientName: 'Partner',
        scopes: ['read', 'write'],
      });
      assert.equal(partner.status, 201, partner.text);
    });
    after(async () => {
      await gw.close();
    });

    it('answers as its comments say', async () => {
      const example = shellCommands(JWT_VERIFIER_README, { from: 'Example: scopes per method' });
      assert.ok(
        example.some((c) => c.text.includes('/httpbin/post') && c.comment.startsWith('200')),
        'the example shows an allowed POST',
      );
      const shared = world();
      shared.vars.set('PORTCULLIS_PW', ADMIN_PASSWORD); // the password the README's reader exported
      assert.ok((await runShellCommands(example, shared)) >= 8);
    });
  });

  describe('the harness itself', () => {
    before(async () => {
      gw = await startGateway();
    });
    after(async () => {
      await gw.close();
    });

    it('fails on an outcome that differs from the comment, naming the line', async () => {
      const doc = '# Doc\n\n```sh\ncurl -i http://localhost:8080/nothing   # 200\n```\n';
      await assert.rejects(
        runShellCommands(shellCommands(doc), world()),
        /line 4: curl -i http:\/\/localhost:8080\/nothing[\s\S]*expected 200: 404/,
      );
      const wrongCode = '```sh\ncurl -i http://localhost:8080/nothing   # 404 forbidden\n```\n';
      await assert.rejects(runShellCommands(shellCommands(wrongCode), world()), /no_route/);
    });

    it('fails on a command it does not understand rather than skipping it', async () => {
      const doc = '```sh\nwget http://localhost:8080/\n```\n';
      await assert.rejects(runShellCommands(shellCommands(doc), world()), /unsupported command "wget"/);
    });
  });
});
