/**
 * `portcullis export` and `portcullis import`: move a whole configuration between stores (the
 * embedded data file and Redis) without starting listeners; `portcullis admin-password`: replace
 * the admin password of a stopped gateway's store. Each opens the store the boot configuration
 * names, as a gateway would (same plugins, same validation, same export shape as
 * `GET /api/export`), does its one thing and closes it. The two that write take the data file
 * first (bin/data-file-lock.ts), as a gateway does.
 *
 *   portcullis export [--config f] [--include-private-keys] > conf.json
 *   portcullis import conf.json [--config f]
 *   portcullis admin-password [--config f]   (PORTCULLIS_ADMIN_PASSWORD, else stdin, else generated)
 *
 * Their arguments are declared and parsed in bin/cli-args.ts.
 *
 * Exit codes as the rest of the CLI: 0 done, 2 a mistake the user fixes (usage, configuration,
 * an invalid document, a data file a running gateway holds), 1 the store could not be reached.
 */
import { existsSync, readFileSync } from 'node:fs';
import { GatewayError, ValidationError } from '../core/errors.js';
import { loadBootConfig, ConfigError, type BootConfig } from '../core/config/boot-config.js';
import type { Gateway } from '../core/gateway.js';
import { DataFileError } from '../core/config/store.js';
import { createLogger } from './logger.js';
import { configFile, createGateway } from './startup.js';
import { claimDataFile, DataFileInUseError, type DataFileClaim, type DataFileHolder } from './data-file-lock.js';
import { generatePassword, hashPassword } from '../core/admin/admin-auth.js';
import { SETTING_ADMIN_PASSWORD_HASH } from '../core/gateway.js';

/** The commands that work on a store without serving (declared and parsed in bin/cli-args.ts). */
export type Command = 'export' | 'import' | 'admin-password';

/** A failure reported as one line with an exit code. */
class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message);
  }
}

/** Run a subcommand; resolves with its exit code (errors are printed as one line on stderr). */
export async function runCommand(
  command: Command,
  args: readonly string[],
  options: ReadonlyMap<string, string | true>,
): Promise<number> {
  try {
    const config = loadBootConfig({ file: configFile(options.get('config')) });
    if (command === 'export') await exportConfiguration(config, options.has('include-private-keys'));
    else if (command === 'import') await importConfiguration(config, args[0]!);
    else await setAdminPassword(config);
    return 0;
  } catch (error) {
    const [message, code] = describe(error);
    process.stderr.write(`portcullis ${command}: ${message}\n`);
    return code;
  }
}

async function exportConfiguration(config: BootConfig, includePrivateKeys: boolean): Promise<void> {
  // Opening a missing data file would create an empty one: an export of nothing is a mistake.
  if (config.storage.kind === 'embedded' && !existsSync(config.store.file)) {
    throw new CommandError(`no data file at ${config.store.file} (set --config or PORTCULLIS_DATA_FILE)`, 2);
  }
  const document = await withGateway(config, (gateway) => gateway.entities.export({ includePrivateKeys }));
  await new Promise<void>((resolve, reject) =>
    process.stdout.write(JSON.stringify(document, null, 2) + '\n', (error) => (error ? reject(error) : resolve())),
  );
}

async function importConfiguration(config: BootConfig, file: string): Promise<void> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CommandError(
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      2,
    );
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new CommandError(`${file} is not valid JSON: ${(error as Error).message}`, 2);
  }
  // A running gateway would overwrite the imported file with its in-memory copy on its next write.
  const counts = await withDataFile(
    config,
    () => withGateway(config, (gateway) => gateway.entities.import(document)),
    throughAdminApi,
  );
  const summary =
    Object.entries(counts)
      .map(([kind, n]) => `${n} ${kind}`)
      .join(', ') || 'nothing';
  process.stdout.write(`portcullis import: imported ${summary} into ${storeName(config)}\n`);
}

/**
 * Replace the admin password (only its scrypt hash is stored). The password comes from
 * PORTCULLIS_ADMIN_PASSWORD, else from stdin (its first line) when stdin is not a terminal, else it
 * is generated and printed once. Refused while a gateway holds the data file: its in-memory copy
 * would write the old hash back.
 */
async function setAdminPassword(config: BootConfig): Promise<void> {
  if (config.storage.kind === 'embedded' && !existsSync(config.store.file)) {
    throw new CommandError(
      `no data file at ${config.store.file} (set --config or PORTCULLIS_DATA_FILE; on a first start PORTCULLIS_ADMIN_PASSWORD sets the password)`,
      2,
    );
  }
  const given = process.env.PORTCULLIS_ADMIN_PASSWORD || (await firstLineOfStdin());
  const password = given || generatePassword();
  const hash = await hashPassword(password);
  await withDataFile(config, () =>
    withGateway(config, (gateway) => gateway.store.putSetting(SETTING_ADMIN_PASSWORD_HASH, hash)),
  );
  const shown = given ? '' : `\n  Admin password (shown once, stored only as a hash): ${password}\n`;
  process.stdout.write(`portcullis admin-password: the admin password of ${storeName(config)} is replaced${shown}\n`);
}

/** Stdin's first line, or '' when stdin is a terminal (nothing is prompted) or empty. */
async function firstLineOfStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  return text.split(/\r?\n/, 1)[0] ?? '';
}

/** Run `work` holding the embedded data file (nothing to hold on Redis); refused while another process holds it. */
async function withDataFile<T>(
  config: BootConfig,
  work: () => Promise<T>,
  hint: (holder: DataFileHolder) => string = () => '',
): Promise<T> {
  let claim: DataFileClaim | null;
  try {
    claim = config.storage.kind === 'embedded' ? claimDataFile(config.store.file) : null;
  } catch (error) {
    if (!(error instanceof DataFileInUseError)) throw error;
    throw new CommandError(error.message + hint(error.holder), 2);
  }
  try {
    return await work();
  } finally {
    claim?.release();
  }
}

function throughAdminApi(holder: DataFileHolder): string {
  return `, or import through ${holder.adminUrl ? `${holder.adminUrl}/api/import` : 'its admin API (POST /api/import)'}`;
}

function storeName(config: BootConfig): string {
  return config.storage.kind === 'embedded' ? config.store.file : config.storage.url!.replace(/\/\/[^@/]*@/, '//***@');
}

/** Open the configured stores as a gateway that serves nothing, run `work`, close. */
async function withGateway<T>(config: BootConfig, work: (gateway: Gateway) => T | Promise<T>): Promise<T> {
  // stdout carries the export: logs go to stderr, and only when something is wrong.
  const quiet = ['fatal', 'error', 'silent'].includes(config.log.level) ? config.log.level : 'warn';
  const log = createLogger({ ...config.log, level: quiet, pretty: false }, process.stderr);
  // Role `proxy`: no first-start bootstrap (no admin password written, no global configuration).
  const gateway = await createGateway(config, log, { role: 'proxy' });
  try {
    return await work(gateway);
  } finally {
    await gateway.close(0);
  }
}

function describe(error: unknown): [string, number] {
  if (error instanceof CommandError) return [error.message, error.exitCode];
  if (error instanceof ConfigError || error instanceof DataFileError) return [error.message, 2];
  if (error instanceof ValidationError) {
    const details = error.details ?? [];
    const first = details[0];
    const more = details.length > 1 ? ` (and ${details.length - 1} more)` : '';
    return [`${error.message}${first ? `: ${first.path}: ${first.message}${more}` : ''}`, 2];
  }
  if (error instanceof GatewayError && error.status === 503) return [error.message, 1];
  if (error instanceof GatewayError && error.status < 500) return [error.message, 2];
  return [`failed: ${(error as Error).stack ?? String(error)}`, 1];
}
