/**
 * Debian's nginx for tests: started on a free loopback port with a generated configuration in a
 * temporary prefix (`-p`, `daemon off`, pid, temp paths and error log inside it), so nothing of the
 * system's nginx is touched; stopped by its own pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canConnect, eventually } from './wait.js';

export const NGINX = '/usr/sbin/nginx';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface TestNginx {
  url: string;
  child: ChildProcess;
  /** What nginx wrote to its error log so far (for failure messages). */
  errorLog(): string;
  stop(): Promise<void>;
}

/**
 * Start nginx with `http` holding the body of the `http {}` block; it must `listen` on `port`.
 * Resolves once nginx accepts connections.
 */
export async function startNginx(http: string, port: number): Promise<TestNginx> {
  const prefix = mkdtempSync(join(tmpdir(), 'portcullis-nginx-'));
  for (const dir of ['logs', 'tmp']) mkdirSync(join(prefix, dir));
  chmodSync(join(prefix, 'tmp'), 0o777); // nginx workers started by root drop to nobody
  writeFileSync(
    join(prefix, 'nginx.conf'),
    `
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
${http}
}
`,
  );
  const child = spawn(NGINX, ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const errorLog = () => {
    let log = '';
    try {
      log = readFileSync(join(prefix, 'logs/error.log'), 'utf8');
    } catch {
      /* not written yet */
    }
    return stderr + log;
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`nginx exited: ${errorLog()}`);
      return canConnect(port);
    }, 'nginx accepts connections');
  } catch (error) {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(prefix, { recursive: true, force: true });
    throw error;
  }
  return {
    url,
    child,
    errorLog,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGQUIT');
        await exited;
      }
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}
