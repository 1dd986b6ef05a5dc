/**
 * Request-target parsing for the hot path. Dot segments are resolved before routing so that
 * `/public/../admin` can never match the `/public` route and reach `/admin` upstream; encoded dot
 * segments (`%2e%2e`) are refused because upstreams disagree on whether to decode them.
 */

export interface RequestTarget {
  path: string;
  /** The raw query string including its `?`, or ''. */
  search: string;
}

/** Split and normalize `req.url`; returns null for a target that must be refused (400). */
export function parseRequestTarget(url: string): RequestTarget | null {
  let path: string;
  let search = '';
  if (url.charCodeAt(0) !== 47 /* / */) {
    // absolute-form (a client using us as a forward proxy) or asterisk-form: keep only path + query
    if (url === '*') return null;
    try {
      const parsed = new URL(url);
      path = parsed.pathname;
      search = parsed.search;
    } catch {
      return null;
    }
  } else {
    const q = url.indexOf('?');
    if (q === -1) path = url;
    else { path = url.slice(0, q); search = url.slice(q); }
  }
  if (path.indexOf('.') === -1 && path.indexOf('%') === -1) return { path, search };
  if (/%2e/i.test(path) && hasEncodedDotSegment(path)) return null;
  return { path: removeDotSegments(path), search };
}

function hasEncodedDotSegment(path: string): boolean {
  return path.split('/').some((segment) => {
    const lower = segment.toLowerCase();
    return lower.includes('%2e') && (lower.replaceAll('%2e', '.') === '.' || lower.replaceAll('%2e', '.') === '..');
  });
}

/** RFC 3986 §5.2.4 for an absolute path. */
export function removeDotSegments(path: string): string {
  const segments = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment === '.') { if (i === segments.length - 1) out.push(''); continue; }
    if (segment === '..') { out.pop(); if (i === segments.length - 1) out.push(''); continue; }
    out.push(segment);
  }
  return '/' + out.join('/');
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
