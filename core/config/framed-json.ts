/**
 * Reads a data file in the layout the store writes (`JSON.stringify(document, null, 1)`) piece by
 * piece: each entity of each collection, and each other top-level member, is parsed on its own as
 * the file streams in. A file of 100 000 API keys then never exists as one 40 MB string, and the
 * parse leaves short-lived garbage instead of filling the heap (and the process's memory) with it.
 *
 * Anything that is not exactly that layout (hand-edited, another indentation, CRLF, a `__proto__`
 * key, a `\u` escape, a syntax error) throws `NotFramed` and the caller parses the whole text as
 * before. When it succeeds the result is JSON.parse's: the pieces and the structural lines between
 * them account for every character of the text, and JSON's grammar admits only one parse.
 */

export class NotFramed extends Error {
  override name = 'NotFramed';
}

const notFramed = new NotFramed('not in the store layout');

interface Container {
  /** Indentation of the container's members. */
  readonly depth: number;
  readonly target: Record<string, unknown> | Map<string, unknown>;
  /** Members that are streamed container by container (`entities`, then each collection). */
  readonly streams: boolean;
  first: boolean;
  /** The last member ended with a comma: another must follow. */
  more: boolean;
}

/**
 * Feed it the text in pieces (`push`), then `end()`; throws NotFramed when the layout differs. With
 * `collectionsAsMaps`, each collection (a member of `entities`) is read into a Map, in the file's
 * order: the store keeps them so, and 100 000 members set on an object first would be built twice.
 */
export class FramedDocumentParser {
  readonly #collectionsAsMaps: boolean;
  constructor(options: { collectionsAsMaps?: boolean } = {}) {
    this.#collectionsAsMaps = options.collectionsAsMaps === true;
  }

  #text = '';
  #pos = 0;
  #started = false;
  #ended = false;
  readonly #document: Record<string, unknown> = {};
  readonly #stack: Container[] = [];

  push(text: string): void {
    this.#text = this.#text.slice(this.#pos) + text;
    this.#pos = 0;
    // The forbidden key can only be spelled literally or with \u escapes: a text holding either is
    // left to the whole-text parse and its reviver (the unread rest is scanned again with each
    // chunk, so a word cut between chunks is seen).
    if (this.#text.includes('__proto__') || this.#text.includes('\\u')) throw notFramed;
    this.#drain(false);
  }

  end(): Record<string, unknown> {
    this.#drain(true);
    if (!this.#ended) throw notFramed;
    return this.#document;
  }

  #drain(final: boolean): void {
    for (;;) {
      const text = this.#text;
      if (this.#ended) {
        if (!/^[ \t\n\r]*$/.test(text.slice(this.#pos))) throw notFramed; // JSON's whitespace only
        this.#pos = text.length;
        return;
      }
      if (!this.#started) {
        if (text.length - this.#pos < 2) {
          if (final) throw notFramed;
          return;
        }
        if (!text.startsWith('{\n', this.#pos)) throw notFramed;
        this.#pos += 2;
        this.#started = true;
        this.#stack.push({ depth: 1, target: this.#document, streams: true, first: true, more: false });
        continue;
      }
      if (!this.#step(final)) return;
    }
  }

  /** One member or one closing line; false when more text is needed. */
  #step(final: boolean): boolean {
    const text = this.#text;
    const container = this.#stack[this.#stack.length - 1]!;
    const { depth } = container;
    const lineEnd = text.indexOf('\n', this.#pos);
    if (lineEnd === -1 && !final) return false;
    const line = text.slice(this.#pos, lineEnd === -1 ? text.length : lineEnd);
    // The container closes: `<depth-1 spaces>}`, with a comma when its parent has more members.
    if (
      (line.length === depth && line.endsWith('}') && isIndent(line, depth - 1)) ||
      (line.length === depth + 1 && line.endsWith('},') && isIndent(line, depth - 1))
    ) {
      if (container.more || container.first) throw notFramed; // a trailing comma, or `{` + `}` on two lines
      this.#stack.pop();
      const parent = this.#stack[this.#stack.length - 1];
      const comma = line.endsWith(',');
      if (parent === undefined) {
        if (comma) throw notFramed;
        this.#ended = true;
      } else parent.more = comma;
      this.#pos = lineEnd === -1 ? text.length : lineEnd + 1;
      return true;
    }
    if (!container.first && !container.more) throw notFramed; // members not separated by a comma
    if (!isIndent(line, depth) || line.charCodeAt(depth) !== 34 /* " */) throw notFramed;
    const keyEnd = endOfString(line, depth);
    const keyToken = line.slice(depth, keyEnd);
    const key = keyToken.includes('\\') ? (parsePiece(keyToken) as string) : keyToken.slice(1, -1);
    if (key === '__proto__' || !line.startsWith(': ', keyEnd)) throw notFramed;
    const valueStart = keyEnd + 2;
    const opening = line.slice(valueStart);
    if (opening === '{' || opening === '[') {
      // A non-empty container: streamed member by member when it is `entities` or a collection.
      if (opening === '{' && container.streams && (depth === 1 ? key === 'entities' : depth === 2)) {
        const target = depth === 2 && this.#collectionsAsMaps ? new Map<string, unknown>() : {};
        setMember(container.target, key, target);
        container.first = false;
        container.more = false;
        this.#stack.push({ depth: depth + 1, target, streams: depth === 1, first: true, more: false });
        this.#pos = lineEnd + 1;
        return true;
      }
      const closer = `\n${' '.repeat(depth)}${opening === '{' ? '}' : ']'}`;
      let close = text.indexOf(closer, lineEnd);
      // The closing line is the closer alone or followed by a comma.
      while (
        close !== -1 &&
        !isLineEnd(text, close + closer.length) &&
        !(text.charCodeAt(close + closer.length) === 44 && isLineEnd(text, close + closer.length + 1))
      )
        close = text.indexOf(closer, close + 1);
      if (close === -1) {
        if (final) throw notFramed;
        return false;
      }
      const valueEnd = close + closer.length;
      const comma = text.charCodeAt(valueEnd) === 44; /* , */
      if (!final && (comma ? valueEnd + 1 : valueEnd) >= text.length) return false; // the line's end is not here yet
      setMember(container.target, key, parsePiece(text.slice(this.#pos + valueStart, valueEnd)));
      container.first = false;
      container.more = comma;
      const next = comma ? valueEnd + 1 : valueEnd;
      this.#pos = next >= text.length ? text.length : next + 1;
      return true;
    }
    if (lineEnd === -1 && !final) return false;
    const comma = opening.endsWith(',');
    setMember(container.target, key, parsePiece(comma ? opening.slice(0, -1) : opening));
    container.first = false;
    container.more = comma;
    this.#pos = lineEnd === -1 ? text.length : lineEnd + 1;
    return true;
  }
}

function setMember(target: Record<string, unknown> | Map<string, unknown>, key: string, value: unknown): void {
  // A key repeated in the text: JSON.parse keeps the last value at the first one's place, as a Map does.
  if (target instanceof Map) target.set(ownString(key), value);
  else target[key] = value;
}

/**
 * The key as a string of its own: a slice of the text would keep its whole chunk (1 MiB) alive as
 * long as the Map holds the key (an object's property key is copied into V8's string table instead).
 */
function ownString(slice: string): string {
  return JSON.parse(JSON.stringify(slice)) as string;
}

function isIndent(line: string, spaces: number): boolean {
  if (line.length < spaces) return false;
  for (let i = 0; i < spaces; i++) if (line.charCodeAt(i) !== 32) return false;
  return line.length === spaces || line.charCodeAt(spaces) !== 32;
}

function isLineEnd(text: string, at: number): boolean {
  return at >= text.length || text.charCodeAt(at) === 10;
}

/** The index after the closing quote of the JSON string starting at `start` (no control character in it). */
function endOfString(line: string, start: number): number {
  for (let i = start + 1; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c < 32) throw notFramed;
    if (c === 92 /* \ */) i++;
    else if (c === 34) return i + 1;
  }
  throw notFramed;
}

function parsePiece(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw notFramed;
  }
}
