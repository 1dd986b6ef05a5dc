/**
 * Every guide of docs/guides runs as written, for real (bash, the built gateway, the echo upstream,
 * redis-server, nginx, openssl): each alone, concurrently with the others (each owns its ports, ids,
 * temporary directory and cleanup), then all of them one after the other in one bash session, which
 * proves a reader can follow them in any order without one colliding with another's leftovers.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { guideNames, parseGuide, runGuides, guideScript, assertGuidesAnswered, assertPortsClosed, type Guide } from '../helpers/guide-runner.js';

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

describe('the guide runner', () => {
  const guide = (steps: string, cleanup: string): Guide => parseGuide('synthetic', `# A guide\n\n\`\`\`sh\n${steps}\n\`\`\`\n\n## Cleanup\n\n\`\`\`sh\n${cleanup}\n\`\`\`\n`);

  it('stops at a failing command and still runs the cleanup, even one naming PIDs not set yet', async () => {
    const marker = `/tmp/guide-runner-${process.pid}.cleaned`;
    const failing = guide(`sleep 300 > /dev/null &\nSLEEP_PID=$!\necho "sleeping $SLEEP_PID"\nfalse\nLATER_PID=1\necho never`,
      `kill "$LATER_PID" "$SLEEP_PID"\nwait "$SLEEP_PID"\ntouch ${marker}`);
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
