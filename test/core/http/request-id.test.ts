import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newRequestId } from '../../../core/http/request-id.js';

describe('Request ids', () => {
  it('are version 4 UUIDs in lower case', () => {
    for (let i = 0; i < 600; i++)
      assert.match(newRequestId(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('never repeat, across refills of their random pool', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) seen.add(newRequestId());
    assert.equal(seen.size, 5000);
  });

  it('use every hex digit in every random position (the bytes are random, not a counter)', () => {
    const ids = Array.from({ length: 2000 }, newRequestId);
    for (const position of [0, 7, 9, 15, 20, 35]) {
      const digits = new Set(ids.map((id) => id[position]));
      assert.equal(digits.size, 16, `position ${position}`);
    }
  });
});
