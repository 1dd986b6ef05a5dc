/**
 * `portcullis check`: what `portcullis start` would decide before opening anything, without
 * starting: the configuration file and the environment validated as one, and the TLS certificate
 * and key of the proxy's HTTPS listener read and paired. Exit 0 with the effective settings, exit 2
 * with the first problem in one line.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { ConfigError, loadBootConfig, type BootConfig } from '../core/config/boot-config.js';
import { configFile } from './startup.js';

export function runCheck(options: ReadonlyMap<string, string | true>): number {
  const file = configFile(options.get('config'));
  try {
    const config = loadBootConfig({ file });
    checkTls(config);
    process.stdout.write(summary(config, file));
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`portcullis check: ${error.message}\n`);
    return 2;
  }
}

/** The certificate and key must be readable PEM and belong together (as the HTTPS listener will need them). */
function checkTls(config: BootConfig): void {
  const tls = config.proxy.tls;
  if (!tls) return;
  const read = (path: string) => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new ConfigError(
        `Cannot read ${path} (proxy.tls): ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
  };
  try {
    createSecureContext({ cert: read(tls.certFile), key: read(tls.keyFile) });
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(
      `proxy.tls: ${tls.certFile} and ${tls.keyFile} are not a PEM certificate and its private key: ${(error as Error).message}`,
    );
  }
}

function summary(config: BootConfig, file: string | null): string {
  const { proxy, admin, storage } = config;
  const store =
    storage.kind === 'embedded'
      ? `data file ${resolve(config.store.file)}${existsSync(config.store.file) ? '' : ' (created on first start)'}`
      : `Redis ${storage.url!.replace(/\/\/[^@/]*@/, '//***@')} (prefix ${storage.keyPrefix})`;
  return [
    `portcullis check: the configuration is valid (${file ?? 'no configuration file: defaults and environment'})`,
    `  Proxy        http://${proxy.host}:${proxy.port}${proxy.tls ? `, https on port ${proxy.tls.port}` : ''}${proxy.publicUrl ? ` (public URL ${proxy.publicUrl})` : ''}`,
    ...(config.authorizer ? [`  Authorizer   http://${config.authorizer.host}:${config.authorizer.port}`] : []),
    `  Admin API    http://${admin.host}:${admin.port}/api (user "${admin.username}")`,
    `  Store        ${store}`,
    `  Workers      ${config.workers}`,
    '',
  ].join('\n');
}
