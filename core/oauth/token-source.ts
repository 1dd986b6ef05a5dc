/**
 * Where a bearer token is read (a header with a prefix, a query parameter or a cookie) and how it
 * is taken out of the request before it goes upstream: one schema and one reader for every plugin
 * that accepts tokens (`jwt-verifier`, `oauth2-introspection`).
 */
import { Type, type Static } from '@sinclair/typebox';
import type { RequestContext } from '../plugin-runtime/context.js';
import { readCookie } from '../http/http-utils.js';

export const TokenSourceSchema = Type.Union(
  [
    // No defaults inside the variants: TypeBox would fill them into the other variants too.
    Type.Object(
      {
        kind: Type.Literal('header'),
        name: Type.String({
          title: 'Name',
          minLength: 1,
          maxLength: 200,
          description: 'Header name, e.g. Authorization.',
        }),
        prefix: Type.String({
          title: 'Prefix',
          maxLength: 200,
          description: 'Prefix before the token, e.g. "Bearer " (may be empty).',
        }),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      { kind: Type.Literal('query'), name: Type.String({ title: 'Name', minLength: 1, maxLength: 200 }) },
      { additionalProperties: false },
    ),
    Type.Object(
      { kind: Type.Literal('cookie'), name: Type.String({ title: 'Name', minLength: 1, maxLength: 200 }) },
      { additionalProperties: false },
    ),
  ],
  { description: 'Where the token is read; absent: `Authorization: Bearer <token>`.' },
);
export type TokenSource = Static<typeof TokenSourceSchema>;

/** The default token source. TypeBox would merge a union default into explicit values, so it lives here. */
export const DEFAULT_TOKEN_SOURCE: TokenSource = { kind: 'header', name: 'Authorization', prefix: 'Bearer ' };

/** A compiled source reader; returns the token or null. */
export function tokenExtractor(source: TokenSource): (ctx: RequestContext) => string | null {
  if (source.kind === 'header') {
    const name = source.name.toLowerCase();
    const prefix = source.prefix.toLowerCase();
    return (ctx) => {
      const value = ctx.headers[name];
      if (typeof value !== 'string') return null;
      if (prefix && value.slice(0, prefix.length).toLowerCase() !== prefix) return null;
      const token = value.slice(prefix.length).trim();
      return token === '' ? null : token;
    };
  }
  if (source.kind === 'query') {
    return (ctx) => (ctx.search ? new URLSearchParams(ctx.search).get(source.name) || null : null);
  }
  return (ctx) => readCookie(ctx.headers.cookie, source.name);
}

/** Remove the token from where it was read, so the upstream never sees it. */
export function removeToken(ctx: RequestContext, source: TokenSource): void {
  const headers = ctx.upstreamHeaders;
  if (source.kind === 'header') {
    delete headers[source.name.toLowerCase()];
  } else if (source.kind === 'query') {
    const params = new URLSearchParams(ctx.search);
    params.delete(source.name);
    const rest = params.toString();
    ctx.search = rest ? `?${rest}` : '';
  } else {
    const cookie = headers.cookie;
    if (typeof cookie !== 'string') return;
    const kept = cookie
      .split(';')
      .map((c) => c.trim())
      .filter((c) => c && c.slice(0, c.indexOf('=')).trim() !== source.name);
    if (kept.length > 0) headers.cookie = kept.join('; ');
    else delete headers.cookie;
  }
}
