// The designer's model: the route draft's shapes, what the parts share (Designer), and the
// constants of the request path's steps.
import type { DiffLine } from '../json-diff.js';
import type { Child } from '../dom.js';
import type { Client, ErrorDetail } from '../client.js';
import type { JsonSchema, JsonObject, PluginInfo, FormOptions, Choice } from '../form.js';
import type { DraftWarnings } from '../warnings.js';

export type Instance = {
  plugin: string;
  enabled?: boolean;
  include?: string[];
  exclude?: string[];
  config?: JsonObject;
};

export type Target = { url: string; weight?: number };

export type Backend = { targets: Target[]; timeouts?: { connectMs?: number; headersMs?: number; bodyMs?: number } };

export type Frontend = {
  domains: string[];
  methods?: string[];
  headers?: Record<string, string>;
  query?: Record<string, string>;
  stripPath?: boolean;
  exact?: boolean;
};

export type RouteDraft = JsonObject & {
  id: string;
  name: string;
  enabled?: boolean;
  tags?: string[];
  mode?: string;
  frontend: Frontend;
  backend?: Backend;
  plugins: Instance[];
  version?: number;
};

export type Summary = { plugin: string; summary: string | null; problems: ErrorDetail[] };

/** what the app gives the designer */
export interface DesignerHost {
  client: Client;
  catalog: PluginInfo[];
  routeSchema: JsonSchema;
  view: HTMLElement;
  go: (hash: string) => void;
  /** called when routes or the global configuration change elsewhere */
  onExternalChange: (refresh: () => unknown) => void;
}

/** Route steps in request order; `sink` is for global plugins only (they answer before routing). */
export const ROUTE_STEPS = ['preRoute', 'validateAccess', 'transformRequest', 'transformResponse', 'after'];

export const STEP_HELP: Record<string, string> = {
  sink: 'before routing; may answer the request itself',
  preRoute: 'first, before any access check',
  validateAccess: 'who may call: refuses with 401 or 403',
  transformRequest: 'edits the request sent upstream',
  transformResponse: 'edits the response head on its way back',
  after: 'once the response is sent',
};

/** Fields of the core's boxes folded under "Advanced settings" (plugins mark theirs with `x-advanced`). */
export const ADVANCED = new Set([
  'route:/description',
  'route:/mode',
  'route:/authorizer',
  'frontend:/exact',
  'frontend:/caseSensitive',
  'frontend:/allowPathParameters',
  'frontend:/query',
  'backend:/rewriteHost',
  'backend:/tls',
  'backend:/timeouts',
  'plugin:/include',
  'plugin:/exclude',
]);

export const META = new Set(['version', 'createdAt', 'updatedAt']);

/** Everything the designer's parts share: the route, its draft, the page's elements and the parts themselves. */
export interface Designer {
  host: DesignerHost;
  id: string;
  client: Client;
  catalog: PluginInfo[];
  routeSchema: JsonSchema;
  view: HTMLElement;
  isNew: boolean;
  hash: string;
  stored: RouteDraft | null;
  global: { plugins: Instance[]; version?: number };
  /** The JWT verifiers a jwt-verifier instance may name (its `verifiers` picker). */
  verifiers: Choice[];
  draft: RouteDraft;
  before: { [k: string]: unknown } | undefined;
  pluginInfo: (pluginId: string) => PluginInfo | undefined;
  keys: WeakMap<Instance, string>;
  keyOf: (instance: Instance) => string;
  errors: Map<string, ErrorDetail[]>;
  summaries: Map<string, Summary>;
  externalChange: boolean;
  /** What the draft would have once saved (a domain and path another route serves), kept fresh. */
  drafted: DraftWarnings;
  /** The frontend's open form, where those warnings are placed beside their fields. */
  frontendForm: HTMLElement | null;
  flow: HTMLDivElement;
  changes: HTMLParagraphElement;
  general: HTMLDivElement;
  notice: HTMLParagraphElement;
  reviewButton: HTMLButtonElement;
  discardButton: HTMLButtonElement;
  testButton: HTMLButtonElement;
  deleteButton: HTMLButtonElement | null;
  routeStrip: HTMLDivElement;
  title: HTMLHeadingElement;
  root: HTMLDivElement;
  summaryKey: (instance: Instance, isGlobal: boolean) => string;
  summaryTimer: ReturnType<typeof setTimeout> | undefined;
  refreshSummaries: () => void;
  diffLines: () => DiffLine[];
  changed: () => void;
  neighbour: (index: number, direction: -1 | 1) => number;
  move: (instance: Instance, direction: -1 | 1) => void;
  nameOf: (instance: Instance) => string;
  focusBox: (key: string) => void;
  draw: () => void;
  coreBox: (key: string, label: string, summary: string, body: Child) => HTMLElement;
  globalsGroup: () => HTMLElement;
  pluginBox: (instance: Instance, step: string) => HTMLElement;
  openCoreBox: (key: string) => void;
  openPlugin: (instance: Instance) => void;
  formPanel: (
    key: string,
    heading: string,
    intro: string,
    schema: JsonSchema,
    value: unknown,
    hide: string[],
    apply: (value: JsonObject) => void,
    extra?: FormOptions | undefined,
  ) => void;
  openCatalog: () => void;
  openTester: () => void;
  review: () => void;
  refused: ({ message, details }: { message: string; details: ErrorDetail[] }) => void;
}

/**
 * The route as compared before saving: without what the store sets.
 */
export function withoutMeta(route: JsonObject) {
  return Object.fromEntries(Object.entries(route).filter(([k]) => !META.has(k)));
}
