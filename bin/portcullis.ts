#!/usr/bin/env node
/**
 * `npm start`: load the configuration, open the store, start the listeners, print where they are
 * (and, on the first start, the generated admin password, once), stop cleanly on SIGTERM/SIGINT.
 */
import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { loadBootConfig, ConfigError } from '../core/config/boot-config.js';
import { createLogger } from './logger.js';
import { Gateway } from '../core/gateway.js';
import { DataFileError } from '../core/config/store.js';
import { BUILTIN_PLUGINS } from '../plugins/index.js';
import { backOfficeModule } from '../backoffice/index.js';

function configFileFromArgs(argv: string[]): string | null {
  const index = argv.indexOf('--config');
  if (index !== -1) {
    const file = argv[index + 1];
    if (!file) throw new ConfigError('--config needs a file name');
    return file;
  }
  const inline = argv.find((a) => a.startsWith('--config='));
  if (inline) return inline.slice('--config='.length);
  return existsSync('config.json') ? 'config.json' : null;
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadBootConfig({ file: configFileFromArgs(process.argv.slice(2)) });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`portcullis: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const log = createLogger(config.log);
  let gateway: Gateway;
  try {
    gateway = await Gateway.create({ config, logger: log, plugins: [...BUILTIN_PLUGINS, backOfficeModule], initialAdminPassword: process.env.PORTCULLIS_ADMIN_PASSWORD || undefined });
  } catch (error) {
    if (error instanceof DataFileError || error instanceof ConfigError) {
      process.stderr.write(`portcullis: ${error.message}\n`);
      log.flush();
      process.exit(2);
    }
    throw error;
  }
  let urls;
  try {
    urls = await gateway.listen();
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { port?: number; address?: string };
    process.stderr.write(`portcullis: cannot listen on ${e.address ?? ''}:${e.port ?? ''}: ${e.code ?? e.message}\n`);
    await gateway.close(0);
    process.exit(2);
  }
  const lines = [
    '',
    `  Portcullis is running`,
    `  Proxy        ${urls.proxyUrl}`,
    ...(urls.proxyTlsUrl ? [`  Proxy (TLS)  ${urls.proxyTlsUrl}`] : []),
    `  Admin API    ${urls.adminUrl}/api   (HTTP Basic, user "${config.admin.username}")`,
    ...(gateway.hasBackOffice ? [`  Back office  ${urls.adminUrl}/`] : []),
    `  Data file    ${gateway.store.location}`,
  ];
  if (gateway.generatedAdminPassword) {
    lines.push('', `  Admin password (shown once, stored only as a hash): ${gateway.generatedAdminPassword}`);
  }
  process.stdout.write(lines.join('\n') + '\n\n');
  log.info({ proxy: urls.proxyUrl, admin: urls.adminUrl, dataFile: gateway.store.location }, 'portcullis started');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: finishing in-flight requests');
    gateway.close().then(
      () => { log.info('stopped'); log.flush(); setTimeout(() => process.exit(0), 50).unref(); },
      (error: unknown) => { log.error({ err: error }, 'shutdown failed'); log.flush(); process.exit(1); },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`portcullis: failed to start: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
