/**
 * The gateway scenarios measured by `npm run bench`: each creates what it needs through the admin
 * API of a running gateway and returns the request (Host, headers) the load generator sends.
 */
export interface Admin {
  (method: string, path: string, body?: unknown): Promise<{ status: number; json(): any; text: string }>;
}

export interface Scenario {
  name: string;
  /** Prepare the gateway; returns the headers to send with every request. */
  setup(admin: Admin, upstreamUrl: string): Promise<Record<string, string>>;
}

const route = (id: string, host: string, upstreamUrl: string, plugins: unknown[] = []) => ({
  id,
  name: id,
  frontend: { domains: [host] },
  backend: { targets: [{ url: upstreamUrl }] },
  plugins,
});

async function mustCreate(admin: Admin, path: string, body: unknown): Promise<any> {
  const res = await admin('POST', path, body);
  if (res.status !== 201) throw new Error(`bench setup: POST ${path} answered ${res.status}: ${res.text}`);
  return res.json();
}

export const BENCH_SECRET = 'bench-secret-0123456789abcdef';

export const SCENARIOS: Scenario[] = [
  {
    name: 'gateway: route, no plugins',
    async setup(admin, upstreamUrl) {
      await mustCreate(admin, '/api/routes', route('bench-plain', 'plain.bench', upstreamUrl));
      return { host: 'plain.bench' };
    },
  },
  {
    name: 'gateway: route + headers + cors',
    async setup(admin, upstreamUrl) {
      await mustCreate(
        admin,
        '/api/routes',
        route('bench-headers', 'headers.bench', upstreamUrl, [
          {
            plugin: 'headers',
            config: { request: { set: { 'x-bench': '1' } }, response: { remove: ['x-powered-by'] } },
          },
          { plugin: 'cors', config: { allowOrigins: ['https://app.bench'] } },
        ]),
      );
      return { host: 'headers.bench', origin: 'https://app.bench' };
    },
  },
  {
    name: 'gateway: route + apikeys (Basic)',
    async setup(admin, upstreamUrl) {
      await mustCreate(
        admin,
        '/api/routes',
        route('bench-apikeys', 'apikeys.bench', upstreamUrl, [{ plugin: 'apikeys' }]),
      );
      await mustCreate(admin, '/api/apikeys', {
        clientId: 'bench-client',
        clientSecret: BENCH_SECRET,
        clientName: 'Bench',
        authorizedEntities: ['bench-apikeys'],
      });
      return {
        host: 'apikeys.bench',
        authorization: 'Basic ' + Buffer.from(`bench-client:${BENCH_SECRET}`).toString('base64'),
      };
    },
  },
  {
    name: 'gateway: route + ip-restriction',
    async setup(admin, upstreamUrl) {
      // A realistic list: a few partner ranges of both families, the load generator's address among them.
      await mustCreate(
        admin,
        '/api/routes',
        route('bench-ip', 'ip.bench', upstreamUrl, [
          {
            plugin: 'ip-restriction',
            config: {
              allow: [
                '203.0.113.0/24',
                '198.51.100.0/24',
                '10.0.0.0/8',
                '192.168.0.0/16',
                '2001:db8::/32',
                '127.0.0.0/8',
              ],
              deny: ['203.0.113.66', '10.1.2.3', '2001:db8::66'],
            },
          },
        ]),
      );
      return { host: 'ip.bench' };
    },
  },
];

/** A data file with `count` API keys and the API-key route, written directly (as a restore would). */
export function manyKeysDataFile(count: number, upstreamUrl: string, secretHash: string): string {
  const now = new Date().toISOString();
  const apikeys: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    const clientId = i === 0 ? 'bench-client' : `bench-client-${i}`;
    apikeys[clientId] = {
      clientId,
      clientSecretHash: secretHash,
      clientName: `Bench ${i}`,
      description: '',
      enabled: true,
      authorizedEntities: ['bench-apikeys'],
      scopes: ['read'],
      allowClientIdOnly: false,
      metadata: { team: `team-${i % 100}` },
      tags: [],
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
  }
  const routes = {
    'bench-apikeys': {
      id: 'bench-apikeys',
      name: 'bench-apikeys',
      description: '',
      enabled: true,
      tags: [],
      version: 1,
      frontend: { domains: ['apikeys.bench'], methods: [], exact: false, stripPath: true, headers: {}, query: {} },
      backend: {
        targets: [{ url: upstreamUrl, weight: 1 }],
        rewriteHost: true,
        timeouts: { connectMs: 5000, headersMs: 30000, bodyMs: 60000 },
      },
      plugins: [{ plugin: 'apikeys', enabled: true, include: [], exclude: [], config: {} }],
    },
  };
  return JSON.stringify({ schemaVersion: 1, settings: {}, entities: { routes, apikeys } });
}
