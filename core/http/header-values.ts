/**
 * Values from tokens, introspection answers and identity providers sent upstream as header values
 * (`X-Authenticated-Userid`, claims-to-headers, consumer names). Such a value may hold anything a
 * JSON string holds; a header field may not (RFC 9110 §5.5: CR, LF and NUL split or break it, and
 * undici refuses anything outside Latin-1, which ended as a 502 for every request of that user). So
 * one encoding, the same everywhere:
 *
 * - a value of visible ASCII (0x21–0x7E), with spaces or tabs only between them and no `%`
 *   followed by two hex digits, is sent **as is** (an empty value stays empty);
 * - any other value is sent **percent-encoded UTF-8**: every byte of its UTF-8 form outside
 *   0x21–0x7E (space, tab, controls, DEL, every non-ASCII byte) and every `%` becomes `%XX`
 *   (uppercase hex). Lone surrogates, which have no UTF-8 form, become U+FFFD first.
 *
 * So the upstream never has to guess: `decodeURIComponent` gives back every encoded value, and
 * throws on every value sent as is that contains a `%` (it is not followed by two hex digits); a
 * value without `%` decodes to itself.
 */

/** Visible ASCII, with spaces and tabs only between visible characters (HTTP trims them at the ends). */
const SENT_AS_IS = /^(?:[\x21-\x7e](?:[\x20-\x7e\t]*[\x21-\x7e])?)?$/;
/** A `%` an upstream would decode: such a value is encoded, so that decoding gives it back. */
const ESCAPE_LIKE = /%[0-9A-Fa-f]{2}/;

const HEX = Array.from({ length: 256 }, (_, byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`);

/**
 * A string as an upstream header value: unchanged when it is visible ASCII (spaces and tabs inside)
 * without a `%XX` sequence, else percent-encoded UTF-8 with `%` encoded too.
 *
 * @example
 * headerValue('alice@example.com') // 'alice@example.com'
 * headerValue('山田')               // '%E5%B1%B1%E7%94%B0'
 * headerValue('a\r\nX-Admin: 1')    // 'a%0D%0AX-Admin:%201'
 * headerValue('50%41')              // '50%2541' (else it would decode to '50A')
 */
export function headerValue(value: string): string {
  if (SENT_AS_IS.test(value) && !(value.includes('%') && ESCAPE_LIKE.test(value))) return value;
  let encoded = '';
  for (const byte of Buffer.from(value, 'utf8'))
    encoded += byte > 0x20 && byte < 0x7f && byte !== 0x25 ? String.fromCharCode(byte) : HEX[byte];
  return encoded;
}

/**
 * A claim or introspection member as an upstream header value: a string as it is, an array's items
 * joined by spaces (`scope` lists), anything else as JSON; then `headerValue`.
 */
export function claimHeaderValue(value: unknown): string {
  const text = typeof value === 'string' ? value : Array.isArray(value) ? value.join(' ') : JSON.stringify(value);
  return headerValue(text ?? '');
}

/**
 * The header named by the error undici (`invalid x-foo header`) or node:http (`Invalid character in
 * header content ["x-foo"]`) throws for a value it will not send, or null for any other error.
 * Such a request never left the gateway: it is the gateway's fault, not the upstream's.
 */
export function unsendableHeader(error: unknown): string | null {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof message !== 'string') return null;
  if (code === 'UND_ERR_INVALID_ARG') return /^invalid (\S+) header$/.exec(message)?.[1] ?? null;
  if (code === 'ERR_INVALID_CHAR') return /\["([^"]+)"\]$/.exec(message)?.[1] ?? null;
  return null;
}
