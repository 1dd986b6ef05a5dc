import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { selfMicros } from '../../bench/profile-samples.js';

const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0 });

describe('bench/profile-samples selfMicros', () => {
  it('counts only the samples inside the load window, idle left out, per function', () => {
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(idle)') },
        { id: 2, callFrame: frame('handle', 'file:///x/dist/core/http/proxy.js') },
        { id: 3, callFrame: frame('start', 'file:///x/dist/bin/portcullis.js') },
      ],
      startTime: 1_000,
      // sample times: 1100 (start-up), 2000, 2500, 3000 (idle), 9000 (after the load)
      samples: [3, 2, 2, 1, 2],
      timeDeltas: [100, 900, 500, 500, 6000],
    };
    const self = selfMicros(profile, 1_500, 5_000);
    assert.deepEqual([...self], [['handle dist/core/http/proxy.js:1', 1400]]);
  });
});
