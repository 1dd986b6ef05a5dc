/**
 * Every guide of docs/guides runs as written, for real (bash, the built gateway, the echo upstream,
 * redis-server, nginx, openssl): each alone, concurrently with the others (each owns its ports, ids,
 * temporary directory and cleanup), then all of them one after the other in one bash session, which
 * proves a reader can follow them in any order without one colliding with another's leftovers.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  ROOT,
  fencedBlocks,
  guideNames,
  parseGuide,
  runGuides,
  guideScript,
  assertGuidesAnswered,
  assertPortsClosed,
  type Guide,
} from '../helpers/guide-runner.js';

const GUIDES = guideNames().map((name) => parseGuide(name));

// Three at a time: each starts a gateway (and some more servers), and a dozen starting at once on a
// small machine can take longer than a guide's readiness wait.
describe('docs/guides, each run alone', { concurrency: 3 }, () => {
  it('holds the guides the README links to', () => {
    assert.ok(GUIDES.length >= 12, GUIDES.map((g) => g.name).join(', '));
  });

  for (const guide of GUIDES) {
    it(`${guide.name}: every command answers as its comment says, and the cleanup stops what it started`, async () => {
      const result = await runGuides([guide]);
      assertGuidesAnswered([guide], result);
      await assertPortsClosed(guide);
    });
  }
});

describe('docs/guides, all in one bash session', () => {
  it('run one after the other, they do not collide', async () => {
    const result = await runGuides(GUIDES);
    assertGuidesAnswered(GUIDES, result);
    for (const guide of GUIDES) await assertPortsClosed(guide);
  });
});

/**
 * The README's quick start as a guide: `npm ci && npm start` stands for the built gateway started on
 * a fresh data file with a known password (the one pasted), and the documented ports 8080, 9080 and
 * 3000 are moved to 8230, 9230 and 3230, so the test neither needs nor disturbs a gateway on the
 * defaults.
 */
function readmeQuickStart(): Guide {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Quick start\n');
  assert.ok(start !== -1, 'the README has a quick start');
  const [install, ...steps] = fencedBlocks(readme.slice(start, readme.indexOf('\n## ', start + 1)), 'sh');
  assert.equal(install, 'npm ci && npm start\n');
  const cleanup = steps.pop()!;
  const moved = (text: string) =>
    text
      .replaceAll(':8080', ':8230')
      .replaceAll(':9080', ':9230')
      .replaceAll(':3000', ':3230')
      .replaceAll('--port 3000', '--port 3230');
  const gateway = [
    'QUICK_START=$(mktemp -d)',
    'PORTCULLIS_DATA_FILE="$QUICK_START/data.json" PORTCULLIS_PROXY_PORT=8230 PORTCULLIS_ADMIN_PORT=9230 PORTCULLIS_ADMIN_PASSWORD=quick-start-password node dist/bin/portcullis.js > "$QUICK_START/gateway.log" 2>&1 &',
    'GATEWAY_PID=$!',
    'curl -sf --retry 60 --retry-connrefused --retry-delay 1 http://127.0.0.1:9230/ready > /dev/null',
  ].join('\n');
  const body = steps.map((step) => moved(step).replace("'paste-the-password-here'", 'quick-start-password')).join('\n');
  const markdown = `\`\`\`sh\n${gateway}\n${body}\`\`\`\n\n## Cleanup\n\n\`\`\`sh\n${moved(cleanup)}kill "$GATEWAY_PID"\nwait "$GATEWAY_PID" 2>/dev/null || true\nrm -rf "$QUICK_START"\n\`\`\`\n`;
  return parseGuide('readme-quick-start', markdown);
}

describe('README.md: the quick start', () => {
  it('answers as its comments say, the first route to the echo upstream', async () => {
    const quickStart = readmeQuickStart();
    assert.deepEqual(quickStart.expectedCodes, ['201', '200', '404']);
    const result = await runGuides([quickStart]);
    assertGuidesAnswered([quickStart], result);
    await assertPortsClosed(quickStart);
  });

  it('is short: what Portcullis is, the quick start, the features, links', () => {
    const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n').length;
    assert.ok(lines < 250, `${lines} lines`);
  });
});

describe('the guide runner', () => {
  const guide = (steps: string, cleanup: string): Guide =>
    parseGuide('synthetic', `# A guide\n\n\`\`\`sh\n${steps}\n\`\`\`\n\n## Cleanup\n\n\`\`\`sh\n${cleanup}\n\`\`\`\n`);

  it('stops at a failing command and still runs the cleanup, even one naming PIDs not set yet', async () => {
    const marker = `/tmp/guide-runner-${process.pid}.cleaned`;
    const failing = guide(
      `sleep 300 > /dev/null &\nSLEEP_PID=$!\necho "sleeping $SLEEP_PID"\nfalse\nLATER_PID=1\necho never`,
      `kill "$LATER_PID" "$SLEEP_PID"\nwait "$SLEEP_PID"\ntouch ${marker}`,
    );
    const result = await runGuides([failing]);
    assert.notEqual(result.code, 0);
    assert.doesNotMatch(result.stdout, /never/);
    assert.ok(existsSync(marker), 'the EXIT trap ran the cleanup');
    rmSync(marker);
    const pid = Number(/sleeping (\d+)/.exec(result.stdout)?.[1]);
    assert.throws(() => process.kill(pid, 0), /ESRCH/, 'the cleanup stopped what the guide started');
  });

  it('fails when a status differs from the comment', async () => {
    const wrong = guide(`echo 404   # -w '%{http_code}\\n' stands in: # 200`, 'true');
    assert.deepEqual(wrong.expectedCodes, ['200']);
    assert.throws(() => assertGuidesAnswered([wrong], { code: 0, stdout: '404\n', stderr: '' }), /'200'/);
    assert.match(guideScript(wrong), /trap 'guide_cleanup > \/dev\/null 2>&1' EXIT/);
  });
});
