/**
 * The README's API-portal tutorial runs as written, after the walkthroughs it continues from: the
 * certificates made by its `openssl` commands, the upstream its `upstream.mjs` describes (run as a
 * real process: HTTPS requiring the gateway's client certificate, checking the gateway's JWT at the
 * JWKS), the profiles, the portal's and the manager's API tokens, an approval with edited scopes and
 * a rejection, a token by client secret and one by a signed assertion (key pair and assertion made
 * by the document's `openssl` and `node` one-liners), the calls the upstream accepts and refuses,
 * the audit trail and the revocation.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import { shellCommands, runShellCommands, readmeWorld } from '../helpers/markdown-shell.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const TITLE = 'The API portal: access requests';
const DOCUMENTED_JWKS = 'http://127.0.0.1:8080/.well-known/otoroshi/oauth/jwks.json';
const DOCUMENTED_LISTEN = "server.listen(4443, '127.0.0.1'";

function section(markdown: string, title: string): string {
  const start = markdown.indexOf(`\n## ${title}\n`);
  assert.ok(start !== -1, `no section "${title}"`);
  return markdown.slice(start, markdown.indexOf('\n## ', start + 1));
}

describe('README: the API portal tutorial, run as written', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let dir: string;
  let accountsProcess: ChildProcess | null = null;
  let accountsOutput = '';
  // The documented https://127.0.0.1:4443, once the README's upstream.mjs listens.
  const accountsApi: Upstream = { server: null as unknown as Upstream['server'], url: 'https://127.0.0.1:1', port: 0, received: [], close: async () => {} };

  before(async () => {
    // Inside the checkout, as the README asks: the node one-liners import the checkout's jose.
    mkdirSync(join(ROOT, '.tmp'), { recursive: true });
    dir = mkdtempSync(join(ROOT, '.tmp', 'portal-tutorial-'));
    upstream = await startUpstream(echo);
    gw = await startGateway();
  });
  after(async () => {
    if (accountsProcess && accountsProcess.exitCode === null) {
      const exited = new Promise((resolve) => accountsProcess!.once('exit', resolve));
      accountsProcess.kill();
      await exited;
    }
    await gw.close();
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** `node upstream.mjs &`: the README's script, saved where the README says, its gateway and port mapped to the test's. */
  async function startAccountsApi(cwd: string): Promise<void> {
    const script = /```js\n([\s\S]*?)```/.exec(section(README, TITLE))?.[1];
    assert.ok(script, 'the tutorial shows upstream.mjs');
    assert.ok(script.includes(DOCUMENTED_JWKS) && script.includes(DOCUMENTED_LISTEN), 'the script fetches the documented JWKS and listens on 4443');
    writeFileSync(join(cwd, 'upstream.mjs'), script.replace(DOCUMENTED_JWKS, `${gw.proxyUrl}/.well-known/otoroshi/oauth/jwks.json`).replace(DOCUMENTED_LISTEN, "server.listen(0, '127.0.0.1'"));
    const child = spawn(process.execPath, ['upstream.mjs'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    accountsProcess = child;
    accountsApi.url = await new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        accountsOutput += chunk.toString('utf8');
        const url = /accounts API on (https:\/\/\S+)/.exec(accountsOutput)?.[1];
        if (url) resolve(url);
      });
      child.stderr!.on('data', (chunk: Buffer) => { accountsOutput += chunk.toString('utf8'); });
      child.once('exit', (code) => reject(new Error(`upstream.mjs exited (${code}): ${accountsOutput}`)));
    });
    accountsApi.port = Number(new URL(accountsApi.url).port);
  }

  it('every command answers as its comment says: approval and rejection, tokens by secret and by assertion, the upstream checking certificate and JWT', async () => {
    const world = readmeWorld(gw, upstream, { upstreams: { 'https://127.0.0.1:4443': accountsApi }, vars: new Map([['PWD', dir]]) });
    world.cwd = dir;
    world.standIns = { 'node upstream.mjs': () => startAccountsApi(world.cwd!) };
    await runShellCommands(shellCommands(README, { until: 'Scopes per route and method' }), world);
    const tutorial = shellCommands(README, { from: TITLE, until: 'Tests' });
    for (const shown of ['openssl x509 -req', 'node upstream.mjs', 'node --input-type=module', '/reject']) {
      assert.ok(tutorial.some((c) => c.text.includes(shown)), `the tutorial shows ${shown}`);
    }
    assert.ok(await runShellCommands(tutorial, world) >= 30);

    const requests = JSON.parse((await gw.admin('GET', '/api/access-requests')).text) as Array<{ state: string; history: unknown[]; grantedScopes?: string[]; quotas?: { dailyQuota?: number }; clientAuthentication: { method: string } }>;
    assert.deepEqual(requests.map((r) => [r.state, r.history.length, r.clientAuthentication.method]), [
      ['revoked', 3, 'client_secret_basic'], ['rejected', 2, 'client_secret_basic'], ['approved', 2, 'private_key_jwt']]);
    assert.deepEqual(requests[0]!.grantedScopes, ['accounts:read', 'Function2/list'], 'the manager edited the scopes');
    assert.equal(requests[0]!.quotas?.dailyQuota, 500);
    const route = (await gw.admin('GET', '/api/routes/accounts')).json();
    assert.equal(route.backend.tls.key, join(dir, 'portal-demo', 'gateway.key'), 'the client certificate is given by file paths');
  });
});
