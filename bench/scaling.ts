/**
 * Scaling across cores: the no-plugin route with 1 and 2 worker processes against nginx with 1 and
 * 2 worker processes, nothing pinned (every process, wrk included, where the scheduler puts it),
 * measured in the same interleaved rounds. On a 2-core machine wrk and the upstream compete with
 * the proxies for the same cores, so the ratios, not the absolute numbers, carry over.
 */
import { cpus } from 'node:os';
import { SCENARIOS } from './scenarios.js';
import {
  adminClient,
  children,
  measureAll,
  startGateway,
  CONNECTIONS,
  DURATION,
  ROUNDS,
  type Target,
} from './harness.js';
import { hasNginx, startNginx } from './nginx.js';

export async function measureScaling(upstreamUrl: string): Promise<string> {
  process.stdout.write('\nscaling (unpinned):\n');
  const targets: Target[] = [];
  for (const workers of [1, 2]) {
    const gateway = await startGateway('warn', { workers, pinned: false });
    const headers = await SCENARIOS[0]!.setup(adminClient(gateway.admin), upstreamUrl);
    targets.push({
      name: `gateway, ${workers} worker${workers > 1 ? 's' : ''}`,
      url: `${gateway.proxy}/`,
      headers,
      pinned: false,
      pid: gateway.pid,
    });
  }
  const nginx = hasNginx();
  if (nginx) {
    for (const workers of [1, 2]) {
      const running = await startNginx(upstreamUrl, workers);
      children.push(running.child);
      targets.push({
        name: `nginx, ${workers} worker process${workers > 1 ? 'es' : ''}`,
        url: `${running.url}/`,
        headers: {},
        pinned: false,
        pid: running.child.pid,
      });
    }
  }
  const results = await measureAll(targets);
  const rate = (name: string) => results.find((r) => r.name.startsWith(name))?.requestsPerSecond ?? NaN;
  const rows = results.map(
    (r) =>
      `| ${r.name} | ${r.requestsPerSecond.toFixed(0)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${Number.isFinite(r.cpuUsPerRequest) ? r.cpuUsPerRequest.toFixed(0) : '—'} | ${r.errors} |`,
  );
  const gatewayScaling = rate('gateway, 2') / rate('gateway, 1');
  const ratios = [
    `- gateway 2 workers / 1 worker: **${gatewayScaling.toFixed(2)}×**`,
    ...(nginx
      ? [
          `- nginx 2 workers / 1 worker: ${(rate('nginx, 2') / rate('nginx, 1')).toFixed(2)}×`,
          `- gateway / nginx with 1 worker: ${(rate('gateway, 1') / rate('nginx, 1')).toFixed(2)}×; with 2: ${(rate('gateway, 2') / rate('nginx, 2')).toFixed(2)}×`,
        ]
      : ['- nginx not installed (`apt-get install -y nginx`): no comparison']),
  ];
  return `
## Every core serving (workers)

The no-plugin route (access log off) with \`workers: 1\` and \`workers: 2\`, beside Debian's nginx
(\`worker_processes\` 1 and 2, upstream keep-alive, access log off), ${CONNECTIONS} connections, ${DURATION} s per
run, median of ${ROUNDS} interleaved rounds, **nothing pinned** on ${cpus().length} cores: wrk and the upstream
compete with the proxy for the same cores, so a second worker cannot double throughput here.

| proxy | req/s | p50 ms | p99 ms | CPU µs/req (all its processes) | errors |
|---|---:|---:|---:|---:|---:|
${rows.join('\n')}

${ratios.join('\n')}
`;
}
