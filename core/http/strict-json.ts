/**
 * JSON from an authority the gateway trusts for a decision (an introspection answer, a provider's
 * metadata, a key set) parsed strictly: a member named twice in one object is refused. JSON.parse
 * keeps the last one, another parser (the authority's own, a cache, a log reader) may keep the
 * first, so `{"active":false,"active":true}` means one thing to the server and another to the
 * gateway (RFC 8259 §4: names SHOULD be unique; RFC 7493 I-JSON: MUST). A reviver cannot see
 * duplicates (it gets the parsed object), so the text is scanned once after it parsed.
 */

/** A JSON text with a member named twice in one object. */
export class DuplicateMemberError extends SyntaxError {
  constructor(readonly member: string) {
    super(`the JSON text names the member ${JSON.stringify(member)} twice in one object`);
  }
}

/** `JSON.parse`, refusing a text whose objects name a member twice (names compared after unescaping). */
export function parseStrictJson(text: string): unknown {
  const value: unknown = JSON.parse(text);
  const duplicate = duplicateMember(text);
  if (duplicate !== null) throw new DuplicateMemberError(duplicate);
  return value;
}

/**
 * The first member named twice in one object of `text`, a valid JSON text, or null. Each open
 * object keeps the names seen so far; a string is a name when it comes right after `{` or after a
 * `,` inside an object.
 */
export function duplicateMember(text: string): string | null {
  const open: Array<Set<string> | null> = []; // a Set per open object, null per open array
  let expectName = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const end = stringEnd(text, i);
      if (expectName) {
        const raw = text.slice(i, end + 1);
        const name = raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        const names = open[open.length - 1]!;
        if (names.has(name)) return name;
        names.add(name);
        expectName = false;
      }
      i = end;
    } else if (c === 0x7b /* { */) {
      open.push(new Set());
      expectName = true;
    } else if (c === 0x5b /* [ */) {
      open.push(null);
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      open.pop();
      expectName = false;
    } else if (c === 0x2c /* , */) {
      expectName = open[open.length - 1] != null;
    }
  }
  return null;
}

/** The index of the quote closing the string that opens at `start`. */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i;
    i += c === 0x5c /* \ */ ? 2 : 1;
  }
}
