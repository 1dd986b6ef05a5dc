/**
 * The README's "Running several instances" section, run as written: its `sh` blocks joined into one
 * bash script (real redis-server, python3 upstream, gateways on the fixed ports the section names),
 * each `-w '%{http_code}'` line's output checked against its trailing comment. Whatever the
 * script leaves running is stopped by an EXIT trap.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const README = readFileSync(new URL('README.md', `file://${ROOT}`), 'utf8');

function section(markdown: string, title: string): string {
  const start = markdown.indexOf(`\n## ${title}\n`);
  assert.ok(start !== -1, `no section "${title}"`);
  const end = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, end === -1 ? undefined : end);
}

function shBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

describe('README: Running several instances', () => {
  it('the section\'s commands run as written: three gateways on one Redis serve a route created on one, workers, export and import', async () => {
    const text = section(README, 'Running several instances');
    const blocks = shBlocks(text);
    assert.ok(blocks.length >= 4);
    const expected = [...text.matchAll(/%\{http_code\}.*#\s*(\d{3})\s*$/gm)].map((m) => m[1]!);
    assert.ok(expected.length >= 3, 'the section shows status codes');
    for (const dir of ['/tmp/portcullis-redis', '/tmp/portcullis-copy']) rmSync(dir, { recursive: true, force: true });
    // Stop everything the script started, whatever happens; and stop at the first failing command.
    const script = `set -eo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n${blocks.join('\n')}`;
    const child = spawn('bash', ['-c', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PORTCULLIS_LOG_LEVEL: 'warn' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    assert.equal(code, 0, `exit ${code}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
    const codes = stdout.split('\n').filter((l) => /^\d{3}$/.test(l));
    assert.deepEqual(codes, expected, stdout);
    assert.equal(stdout.split('\n').filter((l) => l === '{"status":"ready"}').length, 4, stdout);
    assert.match(stdout, /portcullis import: imported .*1 routes.* into \/tmp\/portcullis-copy\/data\.json/);
    assert.match(stdout, /portcullis import: imported .*1 routes.* into redis:\/\/127\.0\.0\.1:6390/);
    const exported = JSON.parse(readFileSync('/tmp/portcullis-conf.json', 'utf8')) as { routes: Array<{ id: string }> };
    assert.deepEqual(exported.routes.map((r) => r.id), ['shared']);
  });
});
