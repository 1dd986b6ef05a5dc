/**
 * Request-target parsing and path normalization, done once per request. Routing, plugin
 * include/exclude filters, access rules and the path forwarded upstream all use the one normalized
 * path, so the upstream acts on exactly the path that was checked. The proxy, the authorizer
 * listener's three endpoints and the request tester all parse targets here.
 *
 * Normalization follows RFC 3986 §6.2.2 plus the `merge_slashes` of nginx and Envoy:
 * - percent-encoded unreserved characters are decoded (`/%61dmin` → `/admin`); every other
 *   percent-encoding is kept, its hex upper-cased (`%c3%a9` → `%C3%A9`);
 * - empty segments are merged (`//admin` → `/admin`; a trailing slash is kept);
 * - dot segments are resolved, encoded ones included (`/a/%2e%2e/b` → `/b`), never above the root;
 * - `;` path parameters are removed (`/admin;jsessionid=1/x` → `/admin/x`), as servlet containers
 *   do before they map a path; `RequestTarget.pathParameters` says there were some, and only a
 *   route with `frontend.allowPathParameters` accepts them (router.ts refuses them otherwise).
 *
 * Refused with 400, because upstreams disagree on what they mean and that disagreement is how
 * traversals such as `..%2f` and `..%5c` reach a path no rule saw: an encoded `/` or `\` (`%2F`,
 * `%5C`), a raw `\`, an encoded NUL, a malformed escape (`%zz`, `%4`), double-encoded dots and
 * separators (`%252e`, `%252f`, `%255c`) that an upstream decoding twice would turn into traversal,
 * dot segments with path parameters (`/..;x/`), which servlet containers resolve as `..`; an encoded
 * `;` (`%3B`: some stacks decode it and then cut the parameter, reading `/admin%3Bx` as `/admin`);
 * escapes that are not valid UTF-8 (`%ff`, `%c0%af`, the overlong `%c0%ae` some decoders read as
 * `.`); and a segment ending in a dot, a space, a tab or another control character (`/admin.`,
 * `...`, `..%09`, `%0A`), which Windows servers and some Java stacks trim (`/admin.` is `/admin`
 * there, `..%09` is `..`), or starting with one of those characters (`/%20admin`, which stacks
 * trimming path tokens read as `/admin`).
 */

export interface RequestTarget {
  /** The normalized path. */
  path: string;
  /** The raw query string including its `?`, or ''. */
  search: string;
  /** The path had `;` parameters (removed from `path`): refused unless the route allows them. */
  pathParameters: boolean;
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
  if (!needsNormalization(path)) return { path, search, pathParameters: false };
  const normalized = normalizePath(path);
  // an encoded `;` is refused, so a `;` left in the raw path is a parameter delimiter
  return normalized === null ? null : { path: normalized, search, pathParameters: path.indexOf(';') !== -1 };
}

/**
 * The hot path's cheap check, allocating nothing: only `%`, `\`, `;`, `//`, a `.` or `..` segment
 * and a segment ending in a dot can make a path differ from its normal form or be refused
 * (`/file.json` and `/v1.2/x` need no work; raw spaces and tabs never get past Node's parser).
 */
export function needsNormalization(path: string): boolean {
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 37 /* % */ || c === 92 /* \ */ || c === 59 /* ; */) return true;
    if (c === 46 /* . */) {
      const next = path.charCodeAt(i + 1);
      if (Number.isNaN(next) || next === 47) return true;
    }
    if (c === 47 /* / */) {
      const next = path.charCodeAt(i + 1);
      if (next === 47) return true;
      if (next === 46 /* . */) {
        const after = path.charCodeAt(i + 2);
        if (Number.isNaN(after) || after === 47 || after === 59 /* ; */) return true;
        if (after === 46) {
          const third = path.charCodeAt(i + 3);
          if (Number.isNaN(third) || third === 47 || third === 59) return true;
        }
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
    const raw = segments[i]!;
    const semicolon = raw.indexOf(';');
    const segment = semicolon === -1 ? raw : raw.slice(0, semicolon);
    if (semicolon !== -1 && (segment === '.' || segment === '..')) return null; // Tomcat & co. read `..;x` as `..`
    if (segment === '' || segment === '.') {
      if (i === last) out.push('');
      continue;
    }
    if (segment === '..') {
      out.pop();
      if (i === last) out.push('');
      continue;
    }
    if (endsTrimmably(segment) || startsTrimmably(segment)) return null;
    out.push(segment);
  }
  return '/' + out.join('/');
}

/**
 * A segment some servers would trim: a trailing dot, or a trailing space, tab or other control
 * character (escapes `%01`–`%20` here, as Java's `String.trim` drops every character up to U+0020).
 */
function endsTrimmably(segment: string): boolean {
  const end = segment.length;
  if (segment.charCodeAt(end - 1) === 46 /* . */) return true;
  if (end < 3 || segment.charCodeAt(end - 3) !== 37 /* % */) return false;
  const hi = segment.charCodeAt(end - 2);
  return hi === 48 /* 0 */ || hi === 49 /* 1 */ || segment.endsWith('%20');
}

/**
 * A segment starting with a space, tab or other control character (`%01`–`%20`): stacks that trim
 * path tokens (Spring's `AntPathMatcher` with `trimTokens`, the default before 5.3) read `/%20admin`
 * as `/admin`.
 */
function startsTrimmably(segment: string): boolean {
  if (segment.length < 3 || segment.charCodeAt(0) !== 37 /* % */) return false;
  const hi = segment.charCodeAt(1);
  return hi === 48 /* 0 */ || hi === 49 /* 1 */ || segment.startsWith('%20');
}

/**
 * Decode unreserved characters, upper-case the remaining escapes; null for a refused escape. The
 * escaped bytes must spell valid UTF-8 (RFC 3629): a multi-byte character is a run of adjacent
 * escapes, and overlong forms, surrogates and bytes that start nothing are refused.
 */
function normalizePercentEncoding(path: string): string | null {
  let out = '';
  let from = 0;
  const utf8 = { pending: 0, low: 0x80, high: 0xbf };
  for (let i = path.indexOf('%'); i !== -1; i = path.indexOf('%', i)) {
    if (utf8.pending > 0 && i !== from) return null; // a character cut short by an unescaped one
    const hi = hexValue(path.charCodeAt(i + 1));
    const lo = hexValue(path.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) return null;
    const byte = hi * 16 + lo;
    if (byte === 0x2f || byte === 0x5c || byte === 0 || byte === 0x3b) return null;
    if (!acceptUtf8Byte(utf8, byte)) return null;
    out += path.slice(from, i) + (isUnreserved(byte) ? String.fromCharCode(byte) : '%' + HEX[hi] + HEX[lo]);
    i += 3;
    from = i;
  }
  if (utf8.pending > 0) return null;
  out += path.slice(from);
  return DOUBLE_ENCODED.test(out) ? null : out;
}

/**
 * One step of a UTF-8 decoder (the well-formed byte sequences of Unicode table 3-7): `pending`
 * continuation bytes are still due, the next one within [low, high].
 */
function acceptUtf8Byte(state: { pending: number; low: number; high: number }, byte: number): boolean {
  if (state.pending > 0) {
    if (byte < state.low || byte > state.high) return false;
    state.pending--;
    state.low = 0x80;
    state.high = 0xbf;
    return true;
  }
  if (byte < 0x80) return true;
  if (byte >= 0xc2 && byte <= 0xdf) state.pending = 1;
  else if (byte >= 0xe0 && byte <= 0xef) {
    state.pending = 2;
    if (byte === 0xe0) state.low = 0xa0; // overlong below U+0800
    if (byte === 0xed) state.high = 0x9f; // UTF-16 surrogates
  } else if (byte >= 0xf0 && byte <= 0xf4) {
    state.pending = 3;
    if (byte === 0xf0) state.low = 0x90; // overlong below U+10000
    if (byte === 0xf4) state.high = 0x8f; // above U+10FFFF
  } else return false; // a continuation byte with no lead, or 0xc0, 0xc1, 0xf5–0xff
  return true;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** RFC 3986 §2.3: ALPHA / DIGIT / "-" / "." / "_" / "~". */
function isUnreserved(c: number): boolean {
  return (
    (c >= 65 && c <= 90) ||
    (c >= 97 && c <= 122) ||
    (c >= 48 && c <= 57) ||
    c === 45 ||
    c === 46 ||
    c === 95 ||
    c === 126
  );
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

/** One of a route's `frontend.domains`: `host` (`api.example.com`, `*.example.com`, `*`) and path `prefix` ('' for none). */
export interface RouteDomain {
  host: string;
  prefix: string;
}

/** A `frontend.domains` entry as written: its host (lower case) and its path prefix, untouched ('' for none). */
export function splitDomain(domain: string): RouteDomain {
  const slash = domain.indexOf('/');
  return {
    host: (slash === -1 ? domain : domain.slice(0, slash)).toLowerCase(),
    prefix: slash === -1 ? '' : domain.slice(slash),
  };
}

/**
 * A `frontend.domains` entry split as the router matches it: the prefix normalized the way request
 * paths are (they are compared with each other), without trailing slashes. The one place a domain is split.
 */
export function routeDomain(domain: string): RouteDomain {
  const { host, prefix: written } = splitDomain(domain);
  let prefix = needsNormalization(written) ? (normalizePath(written) ?? written) : written;
  while (prefix.endsWith('/')) prefix = prefix.slice(0, -1);
  return { host, prefix };
}
