/**
 * Start the gateway CLI as its own process on an existing data file (ports 0), as an operator
 * would restart it. A start-up failure is reported with the process's output, and cannot leave
 * half-started resources in the test process.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

const CLI = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../bin/portcullis.js');

export interface GatewayProcess {
  proxyUrl: string;
  adminUrl: string;
  pid: number;
  stop(): Promise<void>;
}

export function startGatewayProcess(dataFile: string, env: Record<string, string> = {}): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [CLI], {
    env: {
      ...process.env,
      PORTCULLIS_PROXY_PORT: '0',
      PORTCULLIS_ADMIN_PORT: '0',
      PORTCULLIS_DATA_FILE: dataFile,
      PORTCULLIS_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  return new Promise((resolvePromise, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk;
      const proxy = /Proxy\s+(http:\/\/\S+)/.exec(output)?.[1];
      const admin = /Admin API\s+(http:\/\/\S+)\/api/.exec(output)?.[1];
      if (!proxy || !admin) return;
      child.stdout!.off('data', onData);
      child.stdout!.resume();
      child.stderr!.resume();
      resolvePromise({
        proxyUrl: proxy,
        adminUrl: admin,
        pid: child.pid!,
        stop: async () => {
          child.kill('SIGTERM');
          await exited;
        },
      });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.once('exit', (code) =>
      reject(new Error(`the gateway exited with ${code} at start-up: ${output.slice(-2000)}`)),
    );
  });
}
