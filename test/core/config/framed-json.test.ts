/**
 * The data file's piece-by-piece reader gives JSON.parse's result whenever it accepts a text, for
 * any split of the text into chunks, and accepts every text the store writes (the layout of
 * `JSON.stringify(document, null, 1)`) unless it holds `__proto__` or a `\u` escape, which are left
 * to the whole-text parse and its reviver.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FramedDocumentParser, NotFramed } from '../../../core/config/framed-json.js';
import { fuzzSeed } from '../../helpers/fuzz.js';

function framed(text: string, cuts: number[]): unknown {
  const parser = new FramedDocumentParser();
  let from = 0;
  for (const cut of [...cuts.map((c) => Math.floor(c * text.length))].sort((a, b) => a - b)) {
    parser.push(text.slice(from, cut));
    from = cut;
  }
  parser.push(text.slice(from));
  return parser.end();
}

const key = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.constantFrom('entities', 'settings', 'id', '1', '__proto__', 'a"b', 'a\\b', 'é'),
);
const leaf = fc.jsonValue({ maxDepth: 3 });
const dict = <T>(value: fc.Arbitrary<T>, maxKeys = 4) => fc.dictionary(key, value, { maxKeys });
const storeLike = fc
  .record({
    schemaVersion: fc.constant(1),
    settings: dict(leaf),
    entities: dict(fc.oneof(dict(fc.oneof(dict(leaf), leaf), 6), leaf)),
  })
  .chain((doc) => fc.constantFrom(doc, { ...doc, extra: [1, { a: [] }] }, { entities: doc.entities }));
const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 });

describe('Core: framed reading of the data file', () => {
  it('reads every document in the store layout as JSON.parse does, however the text is cut into chunks', () => {
    fc.assert(
      fc.property(storeLike, cuts, (doc, at) => {
        const text = JSON.stringify(doc, null, 1);
        const mayBail = text.includes('__proto__') || text.includes('\\u');
        try {
          assert.deepStrictEqual(framed(text, at), JSON.parse(text));
        } catch (error) {
          if (!(error instanceof NotFramed && mayBail)) throw error;
        }
      }),
      { numRuns: 2000, seed: fuzzSeed() },
    );
  });

  it('either refuses an altered text or reads it as JSON.parse does (never accepts what JSON.parse refuses)', () => {
    const edit = fc.record({
      at: fc.double({ min: 0, max: 1, noNaN: true }),
      op: fc.constantFrom('delete', 'insert', 'duplicate-line'),
      char: fc.constantFrom(' ', '\n', ',', '}', ']', '{', '"', '\t', '\r', '\u00a0', 'x', '1', ':'),
    });
    fc.assert(
      fc.property(storeLike, fc.array(edit, { minLength: 1, maxLength: 3 }), cuts, (doc, edits, at) => {
        let text = JSON.stringify(doc, null, 1);
        for (const e of edits) {
          const i = Math.floor(e.at * text.length);
          if (e.op === 'delete') text = text.slice(0, i) + text.slice(i + 1);
          else if (e.op === 'insert') text = text.slice(0, i) + e.char + text.slice(i);
          else {
            const start = text.lastIndexOf('\n', i) + 1;
            const end = text.indexOf('\n', i);
            const line = text.slice(start, end === -1 ? text.length : end);
            text = text.slice(0, start) + line + '\n' + text.slice(start);
          }
        }
        let expected: unknown;
        let parsed = true;
        try {
          expected = JSON.parse(text);
        } catch {
          parsed = false;
        }
        let result: unknown;
        try {
          result = framed(text, at);
        } catch (error) {
          if (error instanceof NotFramed) return;
          throw error;
        }
        assert.ok(parsed, `accepted a text JSON.parse refuses: ${JSON.stringify(text)}`);
        assert.deepStrictEqual(result, expected);
      }),
      { numRuns: 3000, seed: fuzzSeed() },
    );
  });

  it('leaves a __proto__ key and \\u escapes to the whole-text parse', () => {
    for (const text of [
      '{\n "entities": {\n  "k": {\n   "__proto__": {}\n  }\n }\n}',
      '{\n "entities": {\n  "k": {\n   "a": {\n    "\\u005f_proto__": 1\n   }\n  }\n }\n}',
    ]) {
      assert.throws(() => framed(text, []), NotFramed);
    }
  });
});
