/**
 * The echo upstream the guides start (`node dist/bin/echo-upstream.js --port N`), run as its own
 * process: any path and method answered with the request described, httpbin's `/headers`, `/post`,
 * `/anything/…` and `/status/<code>`, and HTTPS requiring a client certificate for the mTLS guide.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpsRequest } from 'node:https';
import { fileURLToPath } from 'node:url';
import { testPki, type TestPki } from '../helpers/certificates.js';

const ECHO = fileURLToPath(new URL('../../bin/echo-upstream.js', import.meta.url));

interface Running {
  url: string;
  child: ChildProcess;
}

async function startEcho(args: string[]): Promise<Running> {
  const child = spawn(process.execPath, [ECHO, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk;
      const match = /echo upstream on (\S+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.once('exit', (code) => reject(new Error(`echo-upstream exited (${code}): ${output}`)));
  });
  return { url, child };
}

async function stop(running: Running | undefined): Promise<void> {
  if (!running || running.child.exitCode !== null) return;
  const exited = new Promise((resolve) => running.child.once('exit', resolve));
  running.child.kill('SIGTERM');
  await exited;
}

describe('bin/echo-upstream (HTTP)', () => {
  let echo: Running;
  before(async () => {
    echo = await startEcho([]);
  });
  after(() => stop(echo));

  it('answers any path and method with the request it received, query and headers included', async () => {
    const res = await fetch(`${echo.url}/some/deep/path?a=1&a=2&b=x`, {
      method: 'DELETE',
      headers: { 'x-probe': 'yes' },
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.method, 'DELETE');
    assert.equal(body.path, '/some/deep/path');
    assert.deepEqual(body.query, { a: ['1', '2'], b: 'x' });
    assert.equal((body.headers as Record<string, string>)['x-probe'], 'yes');
  });

  it("answers httpbin's /headers, /get, /post and /anything/… paths, a JSON body parsed", async () => {
    for (const path of ['/headers', '/get', '/anything/orders/17'])
      assert.equal((await fetch(echo.url + path)).status, 200, path);
    const res = await fetch(`${echo.url}/post`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"item":"shoe"}',
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.body, '{"item":"shoe"}');
    assert.deepEqual(body.json, { item: 'shoe' });
  });

  it('answers /status/<code> with that status', async () => {
    assert.equal((await fetch(`${echo.url}/status/418`)).status, 418);
    assert.equal((await fetch(`${echo.url}/status/503`)).status, 503);
  });
});

describe('bin/echo-upstream (HTTPS requiring a client certificate)', () => {
  let dir: string;
  let pki: TestPki;
  let echo: Running;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'echo-upstream-'));
    pki = testPki(dir);
    echo = await startEcho([
      '--tls-cert',
      pki.server.certFile,
      '--tls-key',
      pki.server.keyFile,
      '--tls-ca',
      pki.ca.certFile,
    ]);
  });
  after(async () => {
    await stop(echo);
    rmSync(dir, { recursive: true, force: true });
  });

  function get(withClientCertificate: boolean): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        `${echo.url}/entries`,
        {
          ca: pki.ca.cert,
          ...(withClientCertificate ? { cert: pki.client.cert, key: pki.client.key } : {}),
        },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => {
            body += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it('serves HTTPS and names the client certificate it was shown', async () => {
    assert.match(echo.url, /^https:/);
    const res = await get(true);
    assert.equal(res.status, 200);
    assert.equal((JSON.parse(res.body) as { clientCertificate: string }).clientCertificate, 'portcullis-gateway');
  });

  it('refuses the handshake without a client certificate', async () => {
    await assert.rejects(get(false));
  });
});
