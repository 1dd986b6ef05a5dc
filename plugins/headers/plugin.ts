/**
 * `headers`: add, set or remove request headers on the way to the upstream and response headers on
 * the way back. Names are lower-cased once at configuration time.
 */
import type { Plugin, PluginSteps } from '../../core/plugin-api.js';
import { listOf } from '../../core/plugin-api.js';
import { HeadersConfigSchema, type HeadersConfig } from './schema.js';

type Edits = { add: Array<[string, string]>; set: Array<[string, string]>; remove: string[] };

function compileEdits(direction: HeadersConfig['request']): Edits {
  const lower = (entries: Record<string, string>) =>
    Object.entries(entries).map(([k, v]) => [k.toLowerCase(), v] as [string, string]);
  return { add: lower(direction.add), set: lower(direction.set), remove: direction.remove.map((n) => n.toLowerCase()) };
}

function applyEdits(headers: Record<string, unknown>, edits: Edits): void {
  for (const name of edits.remove) delete headers[name];
  for (const [name, value] of edits.set) headers[name] = value;
  for (const [name, value] of edits.add) if (headers[name] === undefined) headers[name] = value;
}

export class HeadersPlugin implements Plugin<typeof HeadersConfigSchema> {
  readonly id = 'headers';
  readonly name = 'Headers';
  readonly description = 'Adds, sets or removes request headers sent upstream and response headers sent to the client.';
  readonly configSchema = HeadersConfigSchema;
  readonly steps = ['transformRequest', 'transformResponse'] as const;

  describe(config: HeadersConfig): string {
    const edits = (d: HeadersConfig['request']) => [
      ...Object.keys(d.set).map((n) => `sets ${n}`),
      ...Object.keys(d.add).map((n) => `adds ${n}`),
      ...d.remove.map((n) => `removes ${n}`),
    ];
    const request = edits(config.request);
    const response = edits(config.response);
    const parts = [
      request.length && `${listOf(request)} on the request`,
      response.length && `${listOf(response)} on the response`,
    ].filter((p): p is string => typeof p === 'string');
    const line = parts.join('; ');
    return line ? `${line[0]!.toUpperCase()}${line.slice(1)}` : 'Changes no header yet';
  }

  instantiate(config: HeadersConfig): PluginSteps {
    const request = compileEdits(config.request);
    const response = compileEdits(config.response);
    const steps: PluginSteps = {};
    if (request.add.length + request.set.length + request.remove.length > 0) {
      steps.transformRequest = function editRequestHeaders(ctx) {
        applyEdits(ctx.upstreamHeaders, request);
      };
    }
    if (response.add.length + response.set.length + response.remove.length > 0) {
      steps.transformResponse = function editResponseHeaders(_ctx, head) {
        applyEdits(head.headers, response);
      };
    }
    return steps;
  }
}
