/**
 * The strict JSON reader for answers the gateway decides on (issue 21): a member named twice in one
 * object is refused, however it is spelled, at any depth; the same name in different objects, and
 * braces or quotes inside strings, are not duplicates.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DuplicateMemberError, duplicateMember, parseStrictJson } from '../../../core/http/strict-json.js';

const DUPLICATES: ReadonlyArray<[string, string]> = [
  ['{"active":false,"active":true}', 'active'],
  ['{"active":true,"sub":"a","ext":{"role":"user","role":"admin"}}', 'role'],
  ['{"active":false,"\\u0061ctive":true}', 'active'],
  ['{"keys":[{"kid":"a","kid":"b"}]}', 'kid'],
  [' { "a" : 1 , "b" : [ 1 , { } ] , "a" : 2 } ', 'a'],
  ['{"":1,"":2}', ''],
];

const UNIQUE: readonly string[] = [
  '{"active":true,"ext":{"active":false}}',
  '[{"a":1},{"a":2}]',
  '{"x":"{\\"a\\":1,\\"a\\":2}","a":"\\\\"}',
  '{"a":{"b":1},"b":{"a":1}}',
  '{"a\\"b":1,"a\\\\b":2}',
  '"{\\"a\\":1,\\"a\\":2}"',
  '[1,"a","a",{}]',
];

describe('Core: strict JSON (duplicate member names)', () => {
  for (const [text, member] of DUPLICATES) {
    it(`refuses ${text}`, () => {
      assert.equal(duplicateMember(text), member);
      assert.throws(
        () => parseStrictJson(text),
        (error: unknown) => error instanceof DuplicateMemberError && error.member === member,
      );
    });
  }
  for (const text of UNIQUE) {
    it(`reads ${text} as JSON.parse does`, () => {
      assert.deepEqual(parseStrictJson(text), JSON.parse(text));
    });
  }
  it('refuses what JSON.parse refuses', () => {
    assert.throws(() => parseStrictJson('{"a":1,'), SyntaxError);
  });
});
