/**
 * `cors`: answers preflight requests at the gateway and adds the CORS headers to every response,
 * gateway errors included (so a browser can read a 401), for allowed origins only.
 */
import type { Plugin, PluginSteps } from '../../core/plugin-api.js';
import { listOf, duration, CorsOriginNotAllowedError } from '../../core/plugin-api.js';
import { CorsConfigSchema, type CorsConfig } from './schema.js';

function originMatcher(allowed: readonly string[]): (origin: string) => boolean {
  if (allowed.includes('*')) return () => true;
  const exact = new Set(allowed.filter((o) => !o.includes('*')).map((o) => o.toLowerCase()));
  const patterns = allowed
    .filter((o) => o.includes('*'))
    .map((o) => new RegExp(`^${o.toLowerCase().split('*').map(escapeRegex).join('[a-z0-9-]+(?:\\.[a-z0-9-]+)*')}$`));
  return (origin) => {
    const lower = origin.toLowerCase();
    return exact.has(lower) || patterns.some((p) => p.test(lower));
  };
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class CorsPlugin implements Plugin<typeof CorsConfigSchema> {
  readonly id = 'cors';
  readonly name = 'CORS';
  readonly description =
    'Cross-origin resource sharing: answers preflight requests and adds CORS headers for allowed origins.';
  readonly configSchema = CorsConfigSchema;
  readonly steps = ['preRoute', 'transformResponse'] as const;

  describe(config: CorsConfig): string {
    return `CORS for ${config.allowOrigins.includes('*') ? 'any origin' : listOf(config.allowOrigins, 'and', 2)}; ${listOf(config.allowMethods, 'and', 4)}${config.allowCredentials ? '; with credentials' : ''}; preflight cached ${duration(config.maxAgeSeconds)}`;
  }

  instantiate(config: CorsConfig): PluginSteps {
    const allowed = originMatcher(config.allowOrigins);
    const anyOrigin = config.allowOrigins.includes('*') && !config.allowCredentials;
    const methods = config.allowMethods.join(', ');
    const fixedHeaders = config.allowHeaders.length > 0 ? config.allowHeaders.join(', ') : null;
    const expose = config.exposeHeaders.join(', ');
    const maxAge = String(config.maxAgeSeconds);
    return {
      preRoute(ctx) {
        const origin = ctx.headers.origin;
        if (!origin) return;
        const preflight = ctx.method === 'OPTIONS' && ctx.headers['access-control-request-method'] !== undefined;
        if (!allowed(origin)) {
          if (preflight) throw new CorsOriginNotAllowedError(origin);
          return;
        }
        ctx.addResponseHeader('access-control-allow-origin', anyOrigin ? '*' : origin);
        if (config.allowCredentials) ctx.addResponseHeader('access-control-allow-credentials', 'true');
        if (!preflight) {
          if (expose) ctx.addResponseHeader('access-control-expose-headers', expose);
          return;
        }
        const requested = ctx.headers['access-control-request-headers'];
        const headers: Record<string, string> = {
          'access-control-allow-methods': methods,
          'access-control-max-age': maxAge,
          vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
        };
        const allowHeaders = fixedHeaders ?? (typeof requested === 'string' ? requested : null);
        if (allowHeaders) headers['access-control-allow-headers'] = allowHeaders;
        ctx.respond(204, undefined, headers);
      },
      transformResponse(ctx, head) {
        if (!ctx.headers.origin || anyOrigin) return;
        const vary = head.headers.vary;
        head.headers.vary = vary ? `${String(vary)}, Origin` : 'Origin';
      },
    };
  }
}
