/**
 * Every documented example is a test: the `sh` blocks of README.md and of the jwt-verifier README run
 * literally (same domains, rules and requests, the trailing comments as expected outcomes) against a
 * real gateway and upstream. Regression for issue 10, item 2: the scopes examples refused every POST.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import { shellCommands, runShellCommands, readmeWorld, type ShellWorld } from '../helpers/markdown-shell.js';

const README = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
const JWT_VERIFIER_README = readFileSync(new URL('../../../plugins/jwt-verifier/README.md', import.meta.url), 'utf8');

describe('Documented walkthroughs run as written', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  const world = (): ShellWorld => readmeWorld(gw, upstream);

  before(async () => { upstream = await startUpstream(echo); });
  after(async () => { await upstream.close(); });

  describe('README.md, from the quick start to the JWT verifier scopes', () => {
    before(async () => { gw = await startGateway(); });
    after(async () => { await gw.close(); });

    it('every command answers as its comment says, the scopes example included', async () => {
      // "Running several instances" starts real servers: test/e2e/running-several-instances.test.ts runs it with bash.
      const commands = [...shellCommands(README, { until: 'Running several instances' }), ...shellCommands(README, { from: 'Tests' })];
      assert.ok(commands.some((c) => c.text.includes('/scoped/post')), 'the scopes walkthrough is among the commands');
      const requests = await runShellCommands(commands, world());
      assert.ok(requests >= 30, `only ${requests} requests ran`);
    });
  });

  describe('plugins/jwt-verifier/README.md, after the README walkthrough it builds on', () => {
    before(async () => { gw = await startGateway(); });
    after(async () => { await gw.close(); });

    it('the scopes-per-method example answers as its comments say', async () => {
      const shared = world();
      await runShellCommands(shellCommands(README, { until: 'Scopes per route and method' }), shared);
      const example = shellCommands(JWT_VERIFIER_README, { from: 'Example: scopes per method' });
      assert.ok(example.some((c) => c.text.includes('/httpbin/post') && c.comment.startsWith('200')), 'the example shows an allowed POST');
      assert.ok(await runShellCommands(example, shared) >= 8);
    });
  });

  describe('the harness itself', () => {
    before(async () => { gw = await startGateway(); });
    after(async () => { await gw.close(); });

    it('fails on an outcome that differs from the comment, naming the line', async () => {
      const doc = '# Doc\n\n```sh\ncurl -i http://localhost:8080/nothing   # 200\n```\n';
      await assert.rejects(runShellCommands(shellCommands(doc), world()), /line 4: curl -i http:\/\/localhost:8080\/nothing[\s\S]*expected 200: 404/);
      const wrongCode = '```sh\ncurl -i http://localhost:8080/nothing   # 404 forbidden\n```\n';
      await assert.rejects(runShellCommands(shellCommands(wrongCode), world()), /no_route/);
    });

    it('fails on a command it does not understand rather than skipping it', async () => {
      const doc = '```sh\nwget http://localhost:8080/\n```\n';
      await assert.rejects(runShellCommands(shellCommands(doc), world()), /unsupported command "wget"/);
    });
  });
});
