/**
 * What other modules add to the admin listener: endpoints (`AdminExtension`, registered under
 * `ADMIN_EXTENSIONS` by plugins and core/keys) and the back office (`AdminUi`, under `ADMIN_UI`).
 * The contracts live apart from the admin API that serves them, so the DI tokens can name them
 * without importing the router (and the router's imports) back.
 */
import type { IncomingMessage, ServerResponse, Server } from 'node:http';
import type { TObject, TSchema } from '@sinclair/typebox';

/**
 * Who calls an admin endpoint: the admin (HTTP Basic or the back office: every endpoint), or an
 * API token for automation (`POST /api/tokens`), which reaches only the endpoints of its scopes.
 */
export type AdminCaller =
  { readonly kind: 'admin' } | { readonly kind: 'token'; readonly tokenId: string; readonly scopes: readonly string[] };

export const ADMIN_CALLER: AdminCaller = { kind: 'admin' };

export interface AdminRequest {
  /** The HTTP request; null when invoked from the back office's WebSocket. */
  readonly req: IncomingMessage | null;
  readonly caller: AdminCaller;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** The parsed JSON body (415/413/400 on bad input). */
  body(): Promise<unknown>;
  /** The parsed JSON body, or undefined when the request has none. */
  optionalBody(): Promise<unknown>;
}

export interface AdminResult {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface AdminRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  /** `/api/routes/:id` */
  path: string;
  /**
   * API token scopes that may call this endpoint (any one of them suffices); absent: the admin
   * alone. The admin API answers 403 to a token without one of them.
   */
  scopes?: readonly string[];
  handler(request: AdminRequest): AdminResult | Promise<AdminResult>;
  /**
   * What `/api/openapi.json` says of this endpoint. The schemas are the TypeBox schemas the
   * endpoint validates with (never a copy written for the document). A route without it is still
   * listed, with its method and path only.
   */
  doc?: AdminRouteDoc;
}

export interface AdminRouteDoc {
  summary: string;
  /** Longer text (CommonMark). */
  description?: string;
  /** The JSON body the endpoint reads. */
  body?: TSchema;
  /** Whether the body may be left out (an optional body). */
  optionalBody?: boolean;
  /** Query parameters: each property of this object schema is one parameter. */
  query?: TObject;
  /**
   * The answers on success, by status: the schema of the JSON body, or null for none (204).
   * Errors need not be listed: every endpoint may answer `{error, error_description}` with a 4xx or 5xx.
   */
  responses: Readonly<Record<number, TSchema | null>>;
}

/** Endpoints a plugin adds to the admin API. */
export interface AdminExtension {
  routes(): AdminRoute[];
}

/** Serves requests on the admin listener that are not for the API (the back office). */
export interface AdminUi {
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  attach?(server: Server): void;
  /** Close live connections (WebSockets: 1001, going away) so the listener can close. */
  close?(): void;
}
