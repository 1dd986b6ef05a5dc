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
  id, name: id, frontend: { domains: [host] }, backend: { targets: [{ url: upstreamUrl }] }, plugins,
});

async function mustCreate(admin: Admin, path: string, body: unknown): Promise<any> {
  const res = await admin('POST', path, body);
  if (res.status !== 201) throw new Error(`bench setup: POST ${path} answered ${res.status}: ${res.text}`);
  return res.json();
}

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
      await mustCreate(admin, '/api/routes', route('bench-headers', 'headers.bench', upstreamUrl, [
        { plugin: 'headers', config: { request: { set: { 'x-bench': '1' } }, response: { remove: ['x-powered-by'] } } },
        { plugin: 'cors', config: { allowOrigins: ['https://app.bench'] } },
      ]));
      return { host: 'headers.bench', origin: 'https://app.bench' };
    },
  },
];
