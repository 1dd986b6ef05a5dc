/**
 * Runs the guides of docs/guides as a reader pastes them: a guide's ```sh blocks joined into one bash
 * script (`set -euo pipefail`, so the first failing command or unmatched `grep` stops it), started
 * from the checkout. Its "Cleanup" block runs at the end as written, and also from an EXIT trap, so a
 * guide that fails half-way still stops what it started. A command showing its status with
 * `-w '%{http_code}\n'` and a trailing `# NNN` comment is checked: the codes printed alone on a line
 * must be the codes the comments give, in order.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const GUIDES_DIR = join(ROOT, 'docs', 'guides');

export interface Guide {
  name: string;
  markdown: string;
  /** Every sh block but the cleanup, in order. */
  steps: string[];
  /** The sh block under "## Cleanup". */
  cleanup: string;
  /** The status codes the `-w '%{http_code}'` lines' comments expect, in order. */
  expectedCodes: string[];
  /** The loopback ports the guide's commands name: all closed again after its cleanup. */
  ports: number[];
}

export interface BashResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The names of docs/guides/*.md, without the extension, sorted. */
export function guideNames(): string[] {
  return readdirSync(GUIDES_DIR)
    .filter((f) => f.endsWith('.md') && f !== 'README.md')
    .map((f) => f.slice(0, -3))
    .sort();
}

/** The fenced blocks of one language, in order. */
export function fencedBlocks(markdown: string, language: string): string[] {
  return [...markdown.matchAll(new RegExp(`^\`\`\`${language}\\n([\\s\\S]*?)^\`\`\`$`, 'gm'))].map((m) => m[1]!);
}

/** A guide split into its steps and its cleanup. */
export function parseGuide(name: string, markdown = readFileSync(join(GUIDES_DIR, `${name}.md`), 'utf8')): Guide {
  const cleanupAt = markdown.indexOf('\n## Cleanup\n');
  assert.ok(cleanupAt !== -1, `${name}: no "## Cleanup" section`);
  const steps = fencedBlocks(markdown.slice(0, cleanupAt), 'sh');
  const [cleanup, ...more] = fencedBlocks(markdown.slice(cleanupAt), 'sh');
  assert.ok(steps.length > 0 && cleanup, `${name}: the guide has commands and a cleanup block`);
  assert.equal(more.length, 0, `${name}: one sh block after "## Cleanup"`);
  // A command continued over several lines (`\` at the end) is one line for the comment's sake.
  const commands = steps.join('\n').replaceAll('\\\n', ' ');
  const expectedCodes = [...commands.matchAll(/%\{http_code\}.*#\s*(\d{3})\b/gm)].map((m) => m[1]!);
  const ports = [
    ...new Set(
      [...commands.matchAll(/(?:127\.0\.0\.1|localhost):(\d{4,5})\b|--port (\d{4,5})\b|_PORT=(\d{4,5})\b/g)].map((m) =>
        Number(m[1] ?? m[2] ?? m[3]),
      ),
    ),
  ].sort();
  return { name, markdown, steps, cleanup, expectedCodes, ports };
}

/**
 * One guide's part of a script: its cleanup defined as a function and armed as the EXIT trap, its
 * steps, its cleanup as written, the trap disarmed. The trap runs quietly with errors and unset
 * variables allowed: a guide that failed half-way has not set every PID its cleanup names, and
 * under `set -u` the first unset one would end the cleanup there, before it stopped the others.
 */
export function guideScript(guide: Guide): string {
  return [
    `echo "=== guide ${guide.name}"`,
    `guide_cleanup() {\nset +eu\n${guide.cleanup}}`,
    "trap 'guide_cleanup > /dev/null 2>&1' EXIT",
    ...guide.steps,
    guide.cleanup,
    'trap - EXIT',
  ].join('\n');
}

/** Run guides one after the other in one bash session. */
export function runGuides(guides: Guide[]): Promise<BashResult> {
  return runBash(['set -euo pipefail', ...guides.map(guideScript)].join('\n'));
}

export function runBash(script: string): Promise<BashResult> {
  const child = spawn('bash', ['-c', script], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PORTCULLIS_LOG_LEVEL: 'warn' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** The run succeeded and printed the codes the guides' comments give, in order. */
export function assertGuidesAnswered(guides: Guide[], result: BashResult): void {
  const transcript = `exit ${result.code}\nstdout:\n${result.stdout.slice(-6000)}\nstderr:\n${result.stderr.slice(-4000)}`;
  assert.equal(result.code, 0, transcript);
  const printed = result.stdout.split('\n').filter((line) => /^\d{3}$/.test(line));
  assert.deepEqual(
    printed,
    guides.flatMap((g) => g.expectedCodes),
    transcript,
  );
}

/** Every port the guide named refuses connections: its cleanup stopped what it started. */
export async function assertPortsClosed(guide: Guide): Promise<void> {
  for (const port of guide.ports) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    assert.equal(open, false, `${guide.name}: port ${port} still open after the cleanup`);
  }
}
