import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { ENV_OVERRIDES, BootConfigSchema } from '../../core/config/boot-config.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { send } from '../helpers/http.js';

// Nothing here can run Docker or a cluster: these tests hold deploy/ against the code instead.
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const DEPLOY = join(ROOT, 'deploy');
/** Variables read outside the boot configuration's overrides. */
const OTHER_ENV = new Set(['PORTCULLIS_ADMIN_PASSWORD']);
const KNOWN_ENV = new Set([...ENV_OVERRIDES.map(([name]) => name), ...OTHER_ENV]);

interface Dockerfile { stages: string[][]; env: Map<string, string> }

function parseDockerfile(text: string): Dockerfile {
  const lines = text.replace(/\\\n\s*/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const stages: string[][] = [];
  for (const line of lines) {
    if (/^FROM\s/i.test(line)) stages.push([]);
    stages.at(-1)?.push(line);
  }
  const env = new Map<string, string>();
  for (const line of stages.at(-1) ?? []) {
    const match = /^ENV\s+(.*)$/i.exec(line);
    if (match) for (const [, name, value] of match[1]!.matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)) env.set(name!, value!);
  }
  return { stages, env };
}

const yamlDocuments = (file: string): any[] => parseAllDocuments(readFileSync(file, 'utf8'), { merge: true }).map((doc) => {
  assert.deepEqual(doc.errors, [], `${file} parses`);
  return doc.toJS();
});

describe('Deployment files (deploy/)', () => {
  const dockerfile = parseDockerfile(readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8'));
  const runtime = dockerfile.stages.at(-1)!;
  const proxyPort = Number(dockerfile.env.get('PORTCULLIS_PROXY_PORT'));
  const adminPort = Number(dockerfile.env.get('PORTCULLIS_ADMIN_PORT'));

  it('Dockerfile: multi-stage, production dependencies only, non-root, listens on every interface', () => {
    assert.ok(dockerfile.stages.length >= 2, 'a build stage and a runtime stage');
    assert.ok(runtime.some((l) => /npm ci\b.*--omit=dev/.test(l)), 'the runtime installs no dev dependencies');
    const user = runtime.filter((l) => /^USER\s/i.test(l)).at(-1);
    assert.ok(user && !/\b(root|0)\b/.test(user), `runs as a non-root user (${user})`);
    assert.equal(dockerfile.env.get('PORTCULLIS_PROXY_HOST'), '0.0.0.0');
    assert.equal(dockerfile.env.get('PORTCULLIS_ADMIN_HOST'), '0.0.0.0');
    for (const name of dockerfile.env.keys()) if (name.startsWith('PORTCULLIS_')) assert.ok(KNOWN_ENV.has(name), `${name} is read by the gateway`);
  });

  it('Dockerfile: exposes the configured ports and checks health on the admin listener', () => {
    const expose = runtime.find((l) => /^EXPOSE\s/i.test(l))!.split(/\s+/).slice(1).map(Number);
    assert.deepEqual(expose.sort(), [proxyPort, adminPort].sort());
    const healthcheck = runtime.find((l) => /^HEALTHCHECK\s/i.test(l))!;
    assert.match(healthcheck, new RegExp(`127\\.0\\.0\\.1:${adminPort}/health`));
    const entrypoint = runtime.find((l) => /^ENTRYPOINT\s/i.test(l))!;
    const script = JSON.parse(entrypoint.replace(/^ENTRYPOINT\s+/i, '')).at(-1) as string;
    assert.equal(script, 'dist/bin/portcullis.js');
    assert.ok(readFileSync(join(ROOT, script.replace(/^dist\//, '').replace(/\.js$/, '.ts'))), 'the entry point exists');
  });

  it('compose.yaml: three gateways on one Redis, with known variables and the image ports', () => {
    const [compose] = yamlDocuments(join(DEPLOY, 'compose.yaml'));
    const gateways = Object.entries<any>(compose.services).filter(([, s]) => s.build?.dockerfile === 'deploy/Dockerfile');
    assert.equal(gateways.length, 3);
    assert.ok(compose.services.redis, 'a redis service');
    for (const [name, service] of gateways) {
      for (const variable of Object.keys(service.environment)) assert.ok(KNOWN_ENV.has(variable), `${name}: ${variable} is read by the gateway`);
      assert.match(service.environment.PORTCULLIS_STORAGE_URL, /^redis:\/\/redis:6379$/);
      for (const mapping of service.ports) assert.ok([proxyPort, adminPort].includes(Number(String(mapping).split(':').at(-1))), `${name} publishes ${mapping}`);
      assert.equal(service.depends_on.redis.condition, 'service_healthy');
    }
  });

  it('Kubernetes: replicas with probes on /health and /ready, the admin password from a Secret, services on the container ports', () => {
    const docs = readdirSync(join(DEPLOY, 'kubernetes')).filter((f) => f.endsWith('.yaml')).flatMap((f) => yamlDocuments(join(DEPLOY, 'kubernetes', f)));
    const deployment = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'portcullis');
    assert.ok(deployment.spec.replicas >= 2);
    assert.equal(deployment.spec.template.spec.securityContext.runAsNonRoot, true);
    const container = deployment.spec.template.spec.containers[0];
    const ports = new Map<string, number>(container.ports.map((p: any) => [p.name, p.containerPort]));
    assert.equal(ports.get('proxy'), proxyPort);
    assert.equal(ports.get('admin'), adminPort);
    assert.deepEqual(container.livenessProbe.httpGet, { path: '/health', port: 'admin' });
    assert.deepEqual(container.readinessProbe.httpGet, { path: '/ready', port: 'admin' });
    for (const { name } of container.env) assert.ok(KNOWN_ENV.has(name), `${name} is read by the gateway`);
    const password = container.env.find((e: any) => e.name === 'PORTCULLIS_ADMIN_PASSWORD');
    assert.ok(password.valueFrom.secretKeyRef, 'the admin password comes from a Secret');
    assert.match(container.env.find((e: any) => e.name === 'PORTCULLIS_STORAGE_URL').value, /^redis:\/\/portcullis-redis:6379$/);
    const workers = container.env.find((e: any) => e.name === 'PORTCULLIS_WORKERS').value;
    assert.ok(workers === 'auto' || Number.isInteger(Number(workers)), 'workers is a count or auto');
    const services = docs.filter((d) => d.kind === 'Service');
    for (const service of services) {
      const selector = service.spec.selector['app.kubernetes.io/name'];
      const target = docs.find((d) => d.kind === 'Deployment' && d.spec.template.metadata.labels['app.kubernetes.io/name'] === selector);
      assert.ok(target, `service ${service.metadata.name} selects a deployment`);
      const names = target.spec.template.spec.containers.flatMap((c: any) => c.ports.map((p: any) => p.name));
      for (const port of service.spec.ports) assert.ok(names.includes(port.targetPort), `${service.metadata.name} targets ${port.targetPort}`);
    }
  });

  it('the boot configuration knows the workers and storage settings the manifests use', () => {
    const properties = (BootConfigSchema as any).properties;
    assert.ok(properties.workers, 'workers');
    assert.ok(properties.storage, 'storage');
  });

  describe('the probes answer on a running gateway', () => {
    let gw: TestGateway;
    before(async () => { gw = await startGateway(); });
    after(() => gw.close());

    it('/health and /ready answer 200 without credentials', async () => {
      for (const path of ['/health', '/ready']) {
        const res = await send(gw.adminUrl + path);
        assert.equal(res.status, 200, path);
        assert.equal(res.headers['cache-control'], 'no-store');
      }
    });
  });
});
