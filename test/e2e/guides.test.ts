/**
 * Every guide of docs/guides runs as written, for real (bash, the built gateway, the echo upstream,
 * redis-server, nginx, openssl): each alone, concurrently with the others (each owns its ports, ids,
 * temporary directory and cleanup), then all of them one after the other in one bash session, which
 * proves a reader can follow them in any order without one colliding with another's leftovers.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { guideNames, parseGuide, runGuides, runBash, guideScript, assertGuidesAnswered, assertPortsClosed, type Guide } from '../helpers/guide-runner.js';

const GUIDES = guideNames().map((name) => parseGuide(name));

describe('docs/guides, each run alone', { concurrency: true }, () => {
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

  it('stops at a failing command and still runs the cleanup', async () => {
    const marker = `/tmp/guide-runner-${process.pid}`;
    const failing = guide(`sleep 300 &\nSLEEP_PID=$!\nfalse\necho never`, `kill "$SLEEP_PID"\nrm -f ${marker}; touch ${marker}.cleaned`);
    const result = await runGuides([failing]);
    assert.notEqual(result.code, 0);
    assert.doesNotMatch(result.stdout, /never/);
    assert.ok(existsSync(`${marker}.cleaned`), 'the EXIT trap ran the cleanup');
    await runBash(`rm -f ${marker}.cleaned`);
  });

  it('fails when a status differs from the comment', async () => {
    const wrong = guide(`echo 404   # -w '%{http_code}\\n' stands in: # 200`, 'true');
    assert.deepEqual(wrong.expectedCodes, ['200']);
    assert.throws(() => assertGuidesAnswered([wrong], { code: 0, stdout: '404\n', stderr: '' }), /'200'/);
    assert.match(guideScript(wrong), /trap 'guide_cleanup > \/dev\/null 2>&1' EXIT/);
  });
});
