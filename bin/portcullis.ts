#!/usr/bin/env -S node --max-semi-space-size=32
/**
 * `npm start`: load the configuration, open the store, start the listeners, print where they are
 * (and, on the first start, the generated admin password, once), stop cleanly on SIGTERM/SIGINT.
 * With `workers` above 1 the proxy listener is served by that many processes (bin/cluster.ts).
 * `portcullis export` / `portcullis import <file>` move a configuration between stores
 * (bin/commands.ts).
 */
import 'reflect-metadata';
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { loadBootConfig, type BootConfig } from '../core/config/boot-config.js';
import { createLogger } from './logger.js';
import { claimDataFileOrExit, configFileFromArgs, createGateway, exitOnUserError, listenOrExit, onStopSignals, startupLines } from './startup.js';
import { runPrimary, runWorker } from './cluster.js';
import { isCommand, runCommand } from './commands.js';

async function main(): Promise<void> {
  const [command, ...args] = process.argv.slice(2);
  if (isCommand(command) && !cluster.isWorker) {
    // The export is written (and flushed) by now; exit even if a connection lingers.
    process.exit(await runCommand(command, args));
  }
  let config: BootConfig;
  try {
    config = loadBootConfig({ file: configFileFromArgs(process.argv.slice(2)) });
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

main().catch((error: unknown) => {
  process.stderr.write(`portcullis: failed to start: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
