#!/usr/bin/env -S node --max-semi-space-size=32 --no-allocation-site-pretenuring
/**
 * The `portcullis` command. `portcullis [start]`: load the configuration, open the store, start the
 * listeners, print where they are (and, on the first start, the generated admin password, once),
 * stop cleanly on SIGTERM/SIGINT; with `workers` above 1 the proxy listener is served by that many
 * processes (bin/cluster.ts). `check` validates the configuration without starting (bin/check.ts);
 * `export` / `import` move a configuration between stores and `admin-password` replaces the admin
 * password of a stopped gateway's store (bin/commands.ts). The command line is
 * declared and parsed in bin/cli-args.ts: `--help`, `--version`, and exit 2 with the usage for
 * anything it does not know.
 */
import 'reflect-metadata';
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { loadBootConfig, type BootConfig } from '../core/config/boot-config.js';
import { createLogger } from './logger.js';
import {
  claimDataFileOrExit,
  configFile,
  createGateway,
  failedStartMessage,
  exitOnUserError,
  listenOrExit,
  onStopSignals,
  startupLines,
} from './startup.js';
import { runPrimary, runWorker } from './cluster.js';
import { runCommand } from './commands.js';
import { runCheck } from './check.js';
import {
  helpText,
  packageVersion,
  parseCommandLine,
  usageLine,
  UsageError,
  type ParsedCommandLine,
} from './cli-args.js';

async function main(): Promise<void> {
  const line = parsedOrExit(process.argv.slice(2));
  if (line.kind === 'version') return void process.stdout.write(`portcullis ${packageVersion()}\n`);
  if (line.kind === 'help') return void process.stdout.write(helpText(line.command));
  const { command, args, options } = line;
  if (command.name === 'check') process.exit(runCheck(options));
  if (
    (command.name === 'export' || command.name === 'import' || command.name === 'admin-password') &&
    !cluster.isWorker
  ) {
    // The export is written (and flushed) by now; exit even if a connection lingers.
    process.exit(await runCommand(command.name, args, options));
  }
  let config: BootConfig;
  try {
    config = loadBootConfig({ file: configFile(options.get('config')) });
  } catch (error) {
    exitOnUserError(error);
    throw error;
  }
  const log = createLogger(config.log);
  const workers = config.workers === 'auto' ? availableParallelism() : config.workers;
  // Workers never open the data file: the primary serves them its store.
  if (cluster.isWorker) return runWorker(config, log);
  const claim = claimDataFileOrExit(config);
  if (workers > 1) return runPrimary(config, log, workers, claim);

  const gateway = await createGateway(config, log);
  const urls = await listenOrExit(gateway);
  claim?.setAdminUrl(urls.adminUrl!);
  process.stdout.write(startupLines(config, gateway, urls, 1));
  log.info({ proxy: urls.proxyUrl, admin: urls.adminUrl, dataFile: gateway.store.location }, 'portcullis started');
  onStopSignals(log, () => gateway.close().finally(() => claim?.release()));
}

/** The parsed command line, or the mistake and the usage on stderr with exit 2. */
function parsedOrExit(argv: readonly string[]): ParsedCommandLine {
  try {
    return parseCommandLine(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    const usage = error.command
      ? `usage: ${usageLine(error.command)}\nRun "portcullis ${error.command.name} --help" for its options.`
      : helpText(null).trimEnd();
    process.stderr.write(`portcullis: ${error.message}\n${usage}\n`);
    process.exit(2);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(failedStartMessage(error));
  process.exit(1);
});
