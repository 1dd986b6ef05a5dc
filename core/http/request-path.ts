/**
 * Request-target parsing and path normalization, done once per request. Routing, plugin
 * include/exclude filters, access rules and the path forwarded upstream all use the one normalized
 * path, so the upstream acts on exactly the path that was checked.
 *
 * Normalization follows RFC 3986 §6.2.2 plus the `merge_slashes` of nginx and Envoy:
 * - percent-encoded unreserved characters are decoded (`/%61dmin` → `/admin`); every other
 *   percent-encoding is kept, its hex upper-cased (`%c3%a9` → `%C3%A9`);
 * - empty segments are merged (`//admin` → `/admin`; a trailing slash is kept);
 * - dot segments are resolved, encoded ones included (`/a/%2e%2e/b` → `/b`), never above the root.
 *
 * Refused with 400, because upstreams disagree on what they mean and that disagreement is how
 * traversals such as `..%2f` and `..%5c` reach a path no rule saw: an encoded `/` or `\` (`%2F`,
 * `%5C`), a raw `\`, an encoded NUL, a malformed escape (`%zz`, `%4`), double-encoded dots and
 * separators (`%252e`, `%252f`, `%255c`) that an upstream decoding twice would turn into traversal,
 * and dot segments with path parameters (`/..;x/`), which servlet containers resolve as `..`.
 */

export interface RequestTarget {
  /** The normalized path. */
  path: string;
  /** The raw query string including its `?`, or ''. */
  search: string;
}

// absolute-form (a client using us as a forward proxy): only the path and query are kept
const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/;
const DOUBLE_ENCODED = /%25(?:2e|2f|5c|00)/i;
const HEX = '0123456789ABCDEF';

/** Split and normalize `req.url`; returns null for a target that must be refused (400). */
export function parseRequestTarget(url: string): RequestTarget | null {
  if (url.charCodeAt(0) !== 47 /* / */) {
    const origin = ABSOLUTE_FORM.exec(url); // asterisk-form (`*`) does not match either
    if (!origin) return null;
    url = url.slice(origin[0].length);
    if (url.charCodeAt(0) !== 47) url = '/' + url;
  }
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const search = q === -1 ? '' : url.slice(q);
  if (!needsNormalization(path)) return { path, search };
  const normalized = normalizePath(path);
  return normalized === null ? null : { path: normalized, search };
}

/**
 * The hot path's cheap check: only `%`, `\`, `//` and a `.` or `..` segment (possibly with `;`
 * parameters) can make a path differ from its normal form (`/file.json` and `/v1.2/x` need no work).
 */
export function needsNormalization(path: string): boolean {
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 37 /* % */ || c === 92 /* \ */) return true;
    if (c === 47 /* / */) {
      const next = path.charCodeAt(i + 1);
      if (next === 47) return true;
      if (next === 46 /* . */) {
        const after = path.charCodeAt(i + 2);
        if (Number.isNaN(after) || after === 47 || after === 59 /* ; */) return true;
        if (after === 46) { const third = path.charCodeAt(i + 3); if (Number.isNaN(third) || third === 47 || third === 59) return true; }
      }
    }
  }
  return false;
}

/** The normal form of an absolute path (see the file header), or null when it must be refused. */
export function normalizePath(path: string): string | null {
  if (path.indexOf('\\') !== -1) return null;
  const decoded = path.indexOf('%') === -1 ? path : normalizePercentEncoding(path);
  if (decoded === null) return null;
  const segments = decoded.split('/');
  const out: string[] = [];
  const last = segments.length - 1;
  for (let i = 1; i <= last; i++) {
    const segment = segments[i]!;
    if (segment === '' || segment === '.') { if (i === last) out.push(''); continue; }
    if (segment === '..') { out.pop(); if (i === last) out.push(''); continue; }
    if (segment.startsWith('.;') || segment.startsWith('..;')) return null; // Tomcat & co. read `..;x` as `..`
    out.push(segment);
  }
  return '/' + out.join('/');
}

/** Decode unreserved characters, upper-case the remaining escapes; null for a refused escape. */
function normalizePercentEncoding(path: string): string | null {
  let out = '';
  let from = 0;
  for (let i = path.indexOf('%'); i !== -1; i = path.indexOf('%', i)) {
    const hi = hexValue(path.charCodeAt(i + 1));
    const lo = hexValue(path.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) return null;
    const byte = hi * 16 + lo;
    if (byte === 0x2f || byte === 0x5c || byte === 0) return null;
    out += path.slice(from, i) + (isUnreserved(byte) ? String.fromCharCode(byte) : '%' + HEX[hi] + HEX[lo]);
    i += 3;
    from = i;
  }
  out += path.slice(from);
  return DOUBLE_ENCODED.test(out) ? null : out;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** RFC 3986 §2.3: ALPHA / DIGIT / "-" / "." / "_" / "~". */
function isUnreserved(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 46 || c === 95 || c === 126;
}

/** Host header without port, lower-cased (IPv6 literals keep their brackets). */
export function normalizeHost(host: string | undefined): string {
  if (!host) return '';
  let end = host.length;
  if (host.charCodeAt(0) === 91 /* [ */) {
    const close = host.indexOf(']');
    if (close !== -1) end = close + 1;
  } else {
    const colon = host.indexOf(':');
    if (colon !== -1) end = colon;
  }
  const bare = end === host.length ? host : host.slice(0, end);
  return hasUpper(bare) ? bare.toLowerCase() : bare;
}

function hasUpper(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return true;
  }
  return false;
}
