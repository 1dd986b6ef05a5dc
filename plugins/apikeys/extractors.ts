/**
 * Where a request carries its API key. Each enabled extractor is tried in a fixed order (Basic,
 * bearer token, custom headers, client id alone); the first that finds something wins. The list is compiled from
 * the plugin config once.
 */
import type { RequestContext } from '../../core/plugin-api.js';
import { parseBasicAuth } from '../../core/plugin-api.js';
import type { ApiKeysConfig } from './schema.js';

export interface Credential {
  via: 'basic' | 'customHeaders' | 'clientId' | 'jwt';
  /** Empty for a bearer token until it is verified. */
  clientId: string;
  /** Absent for the client-id-only and jwt extractors. */
  secret?: string;
  /** The bearer token (jwt extractor). */
  token?: string;
  /** Headers that carried it (removed upstream with `hideCredentials`). */
  headers: readonly string[];
}

/** What an extractor found: a credential, nothing, or something unusable (refused like a bad secret). */
export type Extracted = Credential | null | 'malformed';

export type Extractor = (ctx: RequestContext) => Extracted;

export function compileExtractors(config: ApiKeysConfig['extractors']): Extractor[] {
  const extractors: Extractor[] = [];
  if (config.basic.enabled) {
    extractors.push(function fromBasicAuth(ctx) {
      const header = ctx.headers.authorization;
      if (header === undefined || !/^basic /i.test(header)) return null;
      const parsed = parseBasicAuth(header);
      if (!parsed || parsed.user === '') return 'malformed';
      return { via: 'basic', clientId: parsed.user, secret: parsed.password, headers: ['authorization'] };
    });
  }
  if (config.jwt.enabled) {
    extractors.push(function fromBearerToken(ctx) {
      const header = ctx.headers.authorization;
      if (header === undefined || !/^bearer /i.test(header)) return null;
      const token = header.slice(7).trim();
      if (token === '') return 'malformed';
      return { via: 'jwt', clientId: '', token, headers: ['authorization'] };
    });
  }
  const { customHeaders, clientId } = config;
  if (customHeaders.enabled) {
    const idHeader = customHeaders.clientIdHeader.toLowerCase();
    const secretHeader = customHeaders.clientSecretHeader.toLowerCase();
    const idOnlyAllowed = clientId.enabled && clientId.header.toLowerCase() === idHeader;
    extractors.push(function fromCustomHeaders(ctx) {
      const id = ctx.headers[idHeader];
      const secret = ctx.headers[secretHeader];
      if (id === undefined && secret === undefined) return null;
      if (secret === undefined && idOnlyAllowed) return null; // the client-id extractor takes it
      if (typeof id !== 'string' || typeof secret !== 'string' || id === '' || secret === '') return 'malformed';
      return { via: 'customHeaders', clientId: id, secret, headers: [idHeader, secretHeader] };
    });
  }
  if (clientId.enabled) {
    const header = clientId.header.toLowerCase();
    extractors.push(function fromClientIdHeader(ctx) {
      const id = ctx.headers[header];
      if (id === undefined) return null;
      if (typeof id !== 'string' || id === '') return 'malformed';
      return { via: 'clientId', clientId: id, headers: [header] };
    });
  }
  return extractors;
}

/** The `WWW-Authenticate` challenges for the enabled extractors. */
export function challenges(config: ApiKeysConfig['extractors']): string {
  const list: string[] = [];
  if (config.basic.enabled) list.push('Basic realm="portcullis", charset="UTF-8"');
  if (config.jwt.enabled) list.push('Bearer realm="portcullis"');
  if (config.customHeaders.enabled)
    list.push(
      `ApiKey realm="portcullis", id_header="${config.customHeaders.clientIdHeader}", secret_header="${config.customHeaders.clientSecretHeader}"`,
    );
  else if (config.clientId.enabled) list.push(`ApiKey realm="portcullis", id_header="${config.clientId.header}"`);
  return list.join(', ');
}
