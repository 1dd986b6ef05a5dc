/**
 * TLS to upstream targets (mutual TLS included): the route's or target's `tls` settings, their
 * write-time checks, and the connect options undici's pool is built with. PEM values are given
 * inline or as a file path; files are read when the route is checked and when it is compiled (each
 * configuration change and at start), never per request.
 *
 * An inline private key is configuration the admin API does not show again: reads and exports
 * without private keys omit it, and an update that sends the `tls` object back without `key` keeps
 * the stored one (as key pairs keep theirs).
 */
import { readFileSync } from 'node:fs';
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import type { ErrorDetail } from '../errors.js';

const PEM_OR_PATH = { minLength: 1, maxLength: 100_000 };

export const UpstreamTlsSchema = Type.Object(
  {
    ca: Type.Optional(
      Type.String({
        title: 'CA',
        ...PEM_OR_PATH,
        description:
          "CA certificate(s) that sign the upstream's certificate (PEM, inline or a file path); default: the system's trusted CAs.",
      }),
    ),
    cert: Type.Optional(
      Type.String({
        title: 'Cert',
        ...PEM_OR_PATH,
        description: 'Client certificate the gateway presents (mutual TLS), PEM inline or a file path; needs `key`.',
      }),
    ),
    key: Type.Optional(
      Type.String({
        title: 'Key',
        ...PEM_OR_PATH,
        description:
          'Write-only when inline: the private key of `cert` (PEM, inline or a file path); reads and exports omit an inline key, and an update without it keeps the stored one.',
      }),
    ),
    servername: Type.Optional(
      Type.String({
        title: 'Servername',
        pattern: '^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$',
        maxLength: 253,
        description: "Name sent in SNI and checked against the upstream's certificate; default: the target URL's host.",
      }),
    ),
    rejectUnauthorized: Type.Boolean({
      title: 'Reject unauthorized',
      default: true,
      description:
        'Refuse an upstream whose certificate is not signed by `ca` (or a system CA) or does not name the server; turn off for tests only.',
    }),
  },
  {
    additionalProperties: false,
    description: 'TLS to `https` targets: the CA to trust, a client certificate for mutual TLS, the server name.',
  },
);
export type UpstreamTls = Static<typeof UpstreamTlsSchema>;

/** What undici's `connect` option takes: PEM contents, never paths. */
export interface TlsConnectOptions {
  ca?: string;
  cert?: string;
  key?: string;
  servername?: string;
  rejectUnauthorized: boolean;
}

/** An inline PEM value rather than a file path. */
export function isInlinePem(value: string): boolean {
  return value.trimStart().startsWith('-----BEGIN');
}

function pemOf(value: string): string {
  return isInlinePem(value) ? value : readFileSync(value, 'utf8');
}

/** The connect options of `tls` with every file read; throws when a file cannot be read. */
export function tlsConnectOptions(tls: UpstreamTls): TlsConnectOptions {
  const options: TlsConnectOptions = { rejectUnauthorized: tls.rejectUnauthorized !== false };
  if (tls.ca !== undefined) options.ca = pemOf(tls.ca);
  if (tls.cert !== undefined) options.cert = pemOf(tls.cert);
  if (tls.key !== undefined) options.key = pemOf(tls.key);
  if (tls.servername !== undefined) options.servername = tls.servername;
  return options;
}

/** A digest naming the TLS identity, so targets with different settings never share a pool. */
export function tlsPoolKey(options: TlsConnectOptions | null): string {
  if (options === null) return '';
  return createHash('sha256')
    .update(JSON.stringify([options.ca, options.cert, options.key, options.servername, options.rejectUnauthorized]))
    .digest('base64url');
}

/**
 * Why `tls` cannot be used, at `path`: unreadable files, PEM that does not parse, a certificate
 * without its key (or the other way round), a key that does not match the certificate. The
 * messages never quote the key.
 */
export function tlsProblems(tls: UpstreamTls, path: string): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const read = (field: 'ca' | 'cert' | 'key'): string | null => {
    const value = tls[field];
    if (value === undefined) return null;
    try {
      return pemOf(value);
    } catch (error) {
      problems.push({
        path: `${path}/${field}`,
        message: `The file cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      });
      return null;
    }
  };
  const ca = read('ca');
  const cert = read('cert');
  const key = read('key');
  if (ca !== null) {
    const blocks = ca.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    if (blocks.length === 0) problems.push({ path: `${path}/ca`, message: 'No PEM certificate found' });
    for (const block of blocks) {
      try {
        new X509Certificate(block);
      } catch {
        problems.push({ path: `${path}/ca`, message: 'A CA certificate does not parse' });
        break;
      }
    }
  }
  let certificate: X509Certificate | null = null;
  if (cert !== null) {
    try {
      certificate = new X509Certificate(cert);
    } catch {
      problems.push({ path: `${path}/cert`, message: 'The client certificate does not parse as PEM' });
    }
  }
  let privateKey = null;
  if (key !== null) {
    try {
      privateKey = createPrivateKey(key);
    } catch {
      problems.push({
        path: `${path}/key`,
        message: 'The private key does not parse as PEM (an encrypted key is not supported)',
      });
    }
  }
  if ((tls.cert === undefined) !== (tls.key === undefined))
    problems.push({
      path: `${path}/${tls.cert === undefined ? 'cert' : 'key'}`,
      message: 'A client certificate needs its private key, and a key its certificate',
    });
  if (certificate && privateKey && !certificate.checkPrivateKey(privateKey))
    problems.push({ path: `${path}/key`, message: 'The private key does not match the client certificate' });
  return problems;
}

/** `tls` without an inline private key (what reads and exports show). */
export function withoutInlineKey(tls: UpstreamTls): UpstreamTls {
  if (tls.key === undefined || !isInlinePem(tls.key)) return tls;
  const { key: _hidden, ...shown } = tls;
  return shown;
}

/** The parts of a route that carry `tls` (structural, so this module does not import the entity). */
interface TlsCarrier {
  backend?: { tls?: UpstreamTls; targets: Array<{ url: string; tls?: UpstreamTls }> };
}

/** A route's `tls` settings with their JSON pointers. */
function tlsSettings(route: TlsCarrier): Array<{ path: string; tls: UpstreamTls; url: string | null }> {
  const found: Array<{ path: string; tls: UpstreamTls; url: string | null }> = [];
  if (route.backend?.tls) found.push({ path: '/backend/tls', tls: route.backend.tls, url: null });
  route.backend?.targets.forEach((target, i) => {
    if (target.tls) found.push({ path: `/backend/targets/${i}/tls`, tls: target.tls, url: target.url });
  });
  return found;
}

/** Write-time problems of every `tls` setting of a route (the route's own, each target's). */
export function routeTlsProblems(route: TlsCarrier): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  for (const { path, tls } of tlsSettings(route)) problems.push(...tlsProblems(tls, path));
  route.backend?.targets.forEach((target, i) => {
    if ((target.tls ?? route.backend?.tls) && !target.url.startsWith('https:'))
      problems.push({ path: `/backend/targets/${i}/url`, message: 'TLS settings apply to https targets only' });
  });
  return problems;
}

/**
 * The route with the stored inline keys put back where an update sent the same `tls` without its
 * key (a client that read the route, edited it and wrote it back never saw the key).
 */
export function keepStoredKeys<R extends TlsCarrier>(route: R, previous: R | undefined): R {
  if (!previous?.backend || !route.backend) return route;
  const keep = (tls: UpstreamTls | undefined, before: UpstreamTls | undefined): UpstreamTls | undefined => {
    if (
      !tls ||
      tls.key !== undefined ||
      tls.cert === undefined ||
      !before?.key ||
      !isInlinePem(before.key) ||
      before.cert !== tls.cert
    )
      return tls;
    return { ...tls, key: before.key };
  };
  const previousTargets = new Map(previous.backend.targets.map((t) => [t.url, t.tls]));
  const backend = {
    ...route.backend,
    targets: route.backend.targets.map((t) => (t.tls ? { ...t, tls: keep(t.tls, previousTargets.get(t.url)) } : t)),
  };
  if (route.backend.tls) backend.tls = keep(route.backend.tls, previous.backend.tls);
  return { ...route, backend };
}

/** The route as reads and exports without private keys show it: no inline private key. */
export function withoutInlineKeys<R extends TlsCarrier>(route: R): R {
  if (!route.backend || tlsSettings(route).length === 0) return route;
  const backend = {
    ...route.backend,
    targets: route.backend.targets.map((t) => (t.tls ? { ...t, tls: withoutInlineKey(t.tls) } : t)),
  };
  if (route.backend.tls) backend.tls = withoutInlineKey(route.backend.tls);
  return { ...route, backend };
}
