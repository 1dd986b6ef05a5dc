/**
 * The pieces of start-up shared by a single process and a cluster's primary and workers: the
 * configuration file argument, one-line exits for user errors, the gateway with the shipped
 * plugins, the banner and the stop signals.
 */
import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import { ConfigError, type BootConfig } from '../core/config/boot-config.js';
import { Gateway, type GatewayOptions, type ListenInfo } from '../core/gateway.js';
import { DataFileError } from '../core/config/store.js';
import { StateUnavailableError } from '../core/errors.js';
import { BUILTIN_PLUGINS } from '../plugins/index.js';
import { backOffice } from '../backoffice/index.js';
import { claimDataFile, DataFileInUseError, type DataFileClaim } from './data-file-lock.js';

/** The configuration file: `--config <file>`, else ./config.json when present, else none (defaults and environment). */
export function configFile(option: string | true | undefined): string | null {
  if (typeof option === 'string') return option;
  return existsSync('config.json') ? 'config.json' : null;
}

/** Print a one-line reason and exit 2 for the failures a user fixes (configuration, data file, port). */
export function exitOnUserError(error: unknown, log?: Logger): void {
  if (error instanceof DataFileError || error instanceof ConfigError) {
    process.stderr.write(`portcullis: ${error.message}\n`);
    log?.flush();
    process.exit(2);
  }
}

/** How a start that failed ends: one line for a store that does not answer (Redis down, exit 1), else the cause for a bug report. */
export function failedStartMessage(error: unknown): string {
  if (error instanceof StateUnavailableError) return `portcullis: ${error.message}\n`;
  return `portcullis: failed to start: ${(error as Error).stack ?? error}\n`;
}

/**
 * Take the embedded data file for this process before anything reads it (bin/data-file-lock.ts),
 * or exit 2 with one line naming the process that holds it. Null for Redis (no file to hold).
 */
export function claimDataFileOrExit(config: BootConfig): DataFileClaim | null {
  if (config.storage.kind !== 'embedded') return null;
  try {
    return claimDataFile(config.store.file);
  } catch (error) {
    exitOnUserError(error);
    if (!(error instanceof DataFileInUseError)) throw error;
    process.stderr.write(`portcullis: ${error.message}\n`);
    process.exit(2);
  }
}

/** Create a gateway of this process, with the shipped plugins and back office. */
export async function createGateway(
  config: BootConfig,
  log: Logger,
  extra: Partial<GatewayOptions> = {},
): Promise<Gateway> {
  try {
    return await Gateway.create({
      config,
      logger: log,
      plugins: BUILTIN_PLUGINS,
      adminUi: backOffice,
      initialAdminPassword: process.env.PORTCULLIS_ADMIN_PASSWORD || undefined,
      ...extra,
    });
  } catch (error) {
    exitOnUserError(error, log);
    throw error;
  }
}

export async function listenOrExit(gateway: Gateway): Promise<ListenInfo> {
  try {
    return await gateway.listen();
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { port?: number; address?: string };
    // listen() also stores a first start's generated password: a failure there is not the port's.
    if (e.syscall !== 'listen') throw error;
    process.stderr.write(`portcullis: cannot listen on ${e.address ?? ''}:${e.port ?? ''}: ${e.code ?? e.message}\n`);
    await gateway.close(0, 0);
    process.exit(2);
  }
}

/** The start-up banner. */
export function startupLines(config: BootConfig, gateway: Gateway, urls: ListenInfo, workers: number): string {
  const lines = [
    '',
    `  Portcullis is running`,
    `  Proxy        ${urls.proxyUrl}${workers > 1 ? `   (${workers} worker processes)` : ''}`,
    ...(urls.proxyTlsUrl ? [`  Proxy (TLS)  ${urls.proxyTlsUrl}`] : []),
    ...(urls.authorizerUrl
      ? [
          `  Authorizer   ${urls.authorizerUrl}   (decisions for nginx auth_request, Traefik ForwardAuth, Envoy ext_authz)`,
        ]
      : []),
    `  Admin API    ${urls.adminUrl}/api   (HTTP Basic, user "${config.admin.username}")`,
    ...(gateway.hasBackOffice ? [`  Back office  ${urls.adminUrl}/`] : []),
    `  Data file    ${gateway.store.location}`,
  ];
  if (gateway.generatedAdminPassword) {
    lines.push('', `  Admin password (shown once, stored only as a hash): ${gateway.generatedAdminPassword}`);
  }
  return lines.join('\n') + '\n\n';
}

/** Run `close` once on SIGTERM/SIGINT, then exit 0 (1 when it failed). */
export function onStopSignals(log: Logger, close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: draining, then finishing in-flight requests');
    close().then(
      () => {
        log.info('stopped');
        log.flush();
        setTimeout(() => process.exit(0), 50).unref();
      },
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        log.flush();
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
