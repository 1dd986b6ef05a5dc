/**
 * A small `multipart/form-data` reader (RFC 7578 on RFC 2046) for the OAuth endpoints, which some
 * clients and tutorials use (`curl -F grant_type=client_credentials …`). It reads text fields of a
 * body that was already read within the endpoints' size limit, in one linear pass; file parts are
 * refused. Anything it cannot read unambiguously is an `invalid_request`, never a guess.
 */
import { InvalidRequestError } from '../errors.js';

const CRLF = Buffer.from('\r\n');
const HEADERS_END = Buffer.from('\r\n\r\n');
/** RFC 2046 §5.1.1 bchars, 1 to 70 of them, not ending with a space. */
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The parameters of a header value after its first item: `type; a=b; c="d"` → {a: b, c: d}. */
export function headerParams(value: string): { first: string; params: Map<string, string> } {
  const params = new Map<string, string>();
  let i = value.indexOf(';');
  const first = (i === -1 ? value : value.slice(0, i)).trim().toLowerCase();
  while (i !== -1 && i < value.length) {
    i++; // past ';'
    while (value[i] === ' ' || value[i] === '\t') i++;
    if (i >= value.length) break;
    const eq = value.indexOf('=', i);
    if (eq === -1) throw new InvalidRequestError('A multipart header parameter is malformed');
    const name = value.slice(i, eq).trim().toLowerCase();
    if (!TOKEN.test(name)) throw new InvalidRequestError('A multipart header parameter is malformed');
    let j = eq + 1;
    let paramValue: string;
    if (value[j] === '"') {
      // quoted-string with quoted-pairs (RFC 9110 §5.6.4)
      paramValue = '';
      j++;
      for (;;) {
        if (j >= value.length)
          throw new InvalidRequestError('A multipart header parameter has an unterminated quoted string');
        const c = value[j]!;
        if (c === '"') {
          j++;
          break;
        }
        if (c === '\\' && j + 1 < value.length) {
          paramValue += value[j + 1];
          j += 2;
          continue;
        }
        paramValue += c;
        j++;
      }
      while (value[j] === ' ' || value[j] === '\t') j++;
      if (j < value.length && value[j] !== ';')
        throw new InvalidRequestError('A multipart header parameter is malformed');
    } else {
      const end = value.indexOf(';', j);
      paramValue = (end === -1 ? value.slice(j) : value.slice(j, end)).trim();
      if (!TOKEN.test(paramValue)) throw new InvalidRequestError('A multipart header parameter is malformed');
      j = end === -1 ? value.length : end;
    }
    if (params.has(name)) throw new InvalidRequestError(`The multipart header parameter "${name}" is repeated`);
    params.set(name, paramValue);
    i = j < value.length ? j : -1;
  }
  return { first, params };
}

/** The boundary of a `multipart/form-data` Content-Type. */
export function multipartBoundary(contentType: string): string {
  const boundary = headerParams(contentType).params.get('boundary');
  if (boundary === undefined || !BOUNDARY.test(boundary))
    throw new InvalidRequestError('multipart/form-data needs a valid boundary parameter');
  return boundary;
}

/**
 * The text fields of a `multipart/form-data` body, in order (repeats included: the caller
 * decides). Parts with a filename, a non-text type or an unknown transfer encoding are refused.
 */
export function parseMultipartFields(body: Buffer, boundary: string): Array<[string, string]> {
  const delimiter = Buffer.from(`--${boundary}`);
  const nextDelimiter = Buffer.from(`\r\n--${boundary}`);
  // The first delimiter opens the body or follows a preamble, which is ignored.
  let at = body.subarray(0, delimiter.length).equals(delimiter) ? 0 : body.indexOf(nextDelimiter);
  if (at === -1) throw new InvalidRequestError('The multipart body has no part');
  if (at > 0) at += CRLF.length;
  const fields: Array<[string, string]> = [];
  for (;;) {
    let i = at + delimiter.length;
    if (body[i] === 0x2d && body[i + 1] === 0x2d) return fields; // close delimiter; the epilogue is ignored
    while (body[i] === 0x20 || body[i] === 0x09) i++; // transport padding
    if (body[i] !== 0x0d || body[i + 1] !== 0x0a) throw new InvalidRequestError('The multipart body is malformed');
    const partStart = i + CRLF.length;
    const end = body.indexOf(nextDelimiter, partStart);
    if (end === -1) throw new InvalidRequestError('The multipart body is truncated (no closing boundary)');
    fields.push(readPart(body.subarray(partStart, end)));
    at = end + CRLF.length;
  }
}

function readPart(part: Buffer): [string, string] {
  // An empty header section leaves the part starting with the blank line itself.
  const headersEnd = part.subarray(0, 2).equals(CRLF) ? 0 : part.indexOf(HEADERS_END);
  if (headersEnd === -1) throw new InvalidRequestError('A multipart part has no end of headers');
  const headers = new Map<string, string>();
  const block = part.subarray(0, headersEnd).toString('utf8');
  for (const line of block === '' ? [] : block.split('\r\n')) {
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).toLowerCase() : '';
    if (!TOKEN.test(name)) throw new InvalidRequestError('A multipart part header is malformed');
    if (headers.has(name)) throw new InvalidRequestError(`A multipart part repeats the header ${name}`);
    headers.set(name, line.slice(colon + 1).trim());
  }
  const disposition = headers.get('content-disposition');
  if (disposition === undefined) throw new InvalidRequestError('A multipart part has no Content-Disposition');
  const { first, params } = headerParams(disposition);
  const name = params.get('name');
  if (first !== 'form-data' || name === undefined)
    throw new InvalidRequestError('A multipart part must be form-data with a name');
  if (params.has('filename') || params.has('filename*'))
    throw new InvalidRequestError(`The part "${name}" is a file; only text fields are accepted`);
  const type = headers.get('content-type');
  if (type !== undefined && headerParams(type).first !== 'text/plain')
    throw new InvalidRequestError(`The part "${name}" must be text/plain`);
  const encoding = headers.get('content-transfer-encoding')?.toLowerCase();
  if (encoding !== undefined && encoding !== '7bit' && encoding !== '8bit' && encoding !== 'binary')
    throw new InvalidRequestError(`The part "${name}" has an unsupported Content-Transfer-Encoding`);
  const contentStart = headersEnd === 0 ? CRLF.length : headersEnd + HEADERS_END.length;
  return [name, part.subarray(contentStart).toString('utf8')];
}
