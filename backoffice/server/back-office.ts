/**
 * The back office, served on the admin listener: a login page, the single-page app and its assets
 * (read once at start-up, no CDN), and one WebSocket per tab. Authentication is the admin password;
 * the session cookie is HttpOnly and SameSite=Strict, the WebSocket accepts only the back office's own
 * Origin (no cross-site WebSocket hijacking).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { IncomingMessage, ServerResponse, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { basename, join, extname, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from 'pino';
import {
  LOGIN_ATTEMPTS_NAMESPACE,
  LoginLimiter,
  checkLogin,
  hasDuplicateHost,
  readBody,
  mediaType,
  sendError,
  sendErrorOnSocket,
  sendJson,
  toGatewayError,
  BadRequestError,
  ForbiddenError,
  InvalidCredentialsError,
  ServiceBusyError,
  SessionExpiredError,
  TooManyRequestsError,
  type AdminApi,
  type AdminAuthenticator,
  type StateStore,
  type Store,
  type TrafficStats,
} from './door.js';
import { SessionStore, sessionToken, sessionCookie, clearedCookie } from './sessions.js';
import { parseRequest, execute, MAX_MESSAGE_BYTES } from './ws-protocol.js';

/** The pages, the style sheet and the icon, served as they are in the sources. */
const PUBLIC_DIR = fileURLToPath(new URL('../../../backoffice/public/', import.meta.url));
/**
 * The browser scripts, compiled from backoffice/src/ by tsconfig.backoffice.json (`npm run build`,
 * `npm start`); served under /assets/ beside the static files, sub-folders kept (`designer/layout.js`).
 */
const SCRIPTS_DIR = fileURLToPath(new URL('../../../dist/browser/backoffice/src/', import.meta.url));
/**
 * Libraries the pages load, served from the installed npm packages under their own names (the
 * dashboard's charts: uPlot), so the back office works offline and never calls a CDN.
 */
const VENDOR_ASSETS = ['uplot/dist/uPlot.iife.min.js', 'uplot/dist/uPlot.min.css'];
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin', // 'no-referrer' would make browsers send `Origin: null` on our own form posts
  'x-frame-options': 'DENY',
};

/** The declared error for a refused login, by status. */
function loginError(status: number, message: string, headers: Record<string, string>) {
  if (status === 429) return new TooManyRequestsError(message, headers);
  if (status === 503) return new ServiceBusyError(message);
  if (status === 400) return new BadRequestError(message);
  return new InvalidCredentialsError(message);
}

export interface BackOfficeDeps {
  api: AdminApi;
  auth: AdminAuthenticator;
  store: Store;
  /** Runtime state: sessions and login-attempt counts, shared by every process serving the admin listener. */
  state: StateStore;
  traffic: TrafficStats;
  log: Logger;
  username: string;
  sessionIdleSeconds: number;
  /** A WebSocket whose client leaves more than this unread is closed (1013). */
  webSocketMaxBufferedBytes: number;
}

export class BackOffice {
  readonly #deps: BackOfficeDeps;
  readonly #sessions: SessionStore;
  readonly #limiter: LoginLimiter;
  readonly #assets = new Map<string, { body: Buffer; type: string }>();
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: 2 * MAX_MESSAGE_BYTES });
  readonly #clients = new Set<WebSocket>();
  #stopTraffic: (() => void) | null = null;

  constructor(deps: BackOfficeDeps) {
    this.#deps = deps;
    this.#sessions = new SessionStore(deps.state, deps.sessionIdleSeconds);
    this.#limiter = new LoginLimiter(deps.state.namespace(LOGIN_ATTEMPTS_NAMESPACE), 'backoffice|');
    // A build of the server alone (`tsc -p tsconfig.json`) has no scripts: the gateway still starts
    for (const dir of [PUBLIC_DIR, SCRIPTS_DIR].filter((d) => existsSync(d))) {
      for (const file of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
        if (!extname(file)) continue; // a sub-folder
        this.#assets.set(file.split(sep).join('/'), {
          body: readFileSync(join(dir, file)),
          type: TYPES[extname(file)] ?? 'application/octet-stream',
        });
      }
    }
    const require = createRequire(import.meta.url);
    for (const asset of VENDOR_ASSETS) {
      const file = require.resolve(asset);
      this.#assets.set(basename(file), {
        body: readFileSync(file),
        type: TYPES[extname(file)] ?? 'application/octet-stream',
      });
    }
    deps.store.onChange((event) =>
      this.#broadcast(
        event.op === 'reset'
          ? { event: 'changed', entity: '*', id: null }
          : { event: 'changed', entity: event.kind, id: event.id },
      ),
    );
  }

  /** Serve the back office's pages; false for paths that are not its own. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/login') {
      if (req.method === 'POST') void this.#login(req, res);
      else this.#asset(res, 'login.html');
      return true;
    }
    if (path === '/logout' && req.method === 'POST') {
      if (!this.#sameOrigin(req)) return this.#forbidden(res);
      this.#sessions.destroy(sessionToken(req)).then(
        () => {
          res.writeHead(303, { location: '/login', 'set-cookie': clearedCookie(isHttps(req)), ...SECURITY_HEADERS });
          res.end();
        },
        (error: unknown) => sendError(res, error),
      );
      return true;
    }
    if (path === '/' || path === '/index.html') {
      this.#sessions.touch(sessionToken(req)).then(
        (user) => {
          if (user) return this.#asset(res, 'index.html');
          res.writeHead(302, { location: '/login', 'cache-control': 'no-store' });
          res.end();
        },
        (error: unknown) => sendError(res, error),
      );
      return true;
    }
    if (path.startsWith('/assets/')) {
      const name = path.slice('/assets/'.length);
      if (!this.#assets.has(name) || name.endsWith('.html')) return false;
      this.#asset(res, name);
      return true;
    }
    return false;
  }

  /** Route WebSocket upgrades on `/ws` of the admin listener. */
  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => socket.destroy());
      if ((req.url ?? '').split('?')[0] !== '/ws') return refuse(socket, 404, 'Not Found');
      if (hasDuplicateHost(req)) return refuse(socket, 400, 'Bad Request');
      if (!this.#sameOrigin(req)) {
        this.#deps.log.warn({ origin: req.headers.origin }, 'back-office WebSocket refused: foreign Origin');
        return refuse(socket, 403, 'Forbidden');
      }
      const token = sessionToken(req);
      this.#sessions.touch(token).then(
        (user) => {
          if (!user) return refuse(socket, 401, 'Unauthorized');
          this.#wss.handleUpgrade(req, socket, head, (ws) => this.#connected(ws, token!));
        },
        (error: unknown) => sendErrorOnSocket(socket, error),
      );
    });
  }

  /**
   * The gateway is stopping: each page is told with 1001 (going away), so it shows a reconnection
   * rather than a broken connection; the gateway drops any that never answers when
   * its grace ends.
   */
  close(): void {
    this.#stopTraffic?.();
    for (const client of this.#clients) client.close(1001, 'server shutting down');
    this.#wss.close();
  }

  #connected(ws: WebSocket, token: string): void {
    this.#clients.add(ws);
    this.#stopTraffic ??= this.#deps.traffic.subscribe((tick) => this.#broadcast({ event: 'traffic', ...tick }));
    // The session is checked before each message, and the messages handled in the order they came
    // even when a check has to ask the state store.
    let inOrder = Promise.resolve();
    ws.on('message', (data: Buffer) => {
      inOrder = inOrder
        .then(() => this.#sessions.touch(token))
        .then(
          (user) => {
            if (user) return this.#onMessage(ws, data);
            const expired = new SessionExpiredError();
            this.#reply(ws, { id: null, ok: false, error: { status: expired.status, ...expired.toJSON() } });
            ws.close(4401, 'session expired');
          },
          (error: unknown) => {
            // The state store cannot confirm the session: this message is refused, the tab stays open.
            const refused = toGatewayError(error);
            this.#reply(ws, { id: null, ok: false, error: { status: refused.status, ...refused.toJSON() } });
          },
        );
    });
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      this.#clients.delete(ws);
      if (this.#clients.size === 0) {
        this.#stopTraffic?.();
        this.#stopTraffic = null;
      }
    });
    this.#reply(ws, { event: 'hello', user: this.#deps.username });
  }

  #onMessage(ws: WebSocket, data: Buffer): void {
    // A throw here would be an uncaught exception in an event handler (the process would end):
    // anything unexpected is answered as a server error and logged instead.
    try {
      const request = parseRequest(Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer));
      if ('ok' in request) return this.#reply(ws, request);
      execute(this.#deps.api, request)
        .then((reply) => this.#reply(ws, reply))
        .catch((error: unknown) => this.#failed(ws, error));
    } catch (error) {
      this.#failed(ws, error);
    }
  }

  #broadcast(message: { event: string; [field: string]: unknown }): void {
    if (this.#clients.size === 0) return;
    const text = JSON.stringify(message);
    // Traffic ticks are superseded every second: a client that lags behind skips them.
    const skipAbove = message.event === 'traffic' ? this.#deps.webSocketMaxBufferedBytes / 4 : Infinity;
    for (const client of this.#clients) if (client.bufferedAmount <= skipAbove) this.#send(client, text);
  }

  #failed(ws: WebSocket, error: unknown): void {
    this.#deps.log.error({ err: error }, 'back-office WebSocket message failed');
    this.#reply(ws, {
      id: null,
      ok: false,
      error: { status: 500, error: 'server_error', error_description: 'Internal gateway error' },
    });
  }

  #reply(ws: WebSocket, reply: unknown): void {
    this.#send(ws, JSON.stringify(reply));
  }

  /**
   * Send unless the client has left too much unread: then close it (1013, try again later) rather
   * than buffer without bound for a tab that does not read.
   */
  #send(ws: WebSocket, text: string): void {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount + Buffer.byteLength(text) > this.#deps.webSocketMaxBufferedBytes) {
      this.#deps.log.warn(
        { bufferedAmount: ws.bufferedAmount },
        'back-office WebSocket closed: the client does not read its messages',
      );
      ws.close(1013, 'too many unread messages');
      return;
    }
    ws.send(text);
  }

  async #login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const json = mediaType(req) === 'application/json';
    const address = req.socket.remoteAddress ?? '';
    const fail = (
      status: number,
      message: string,
      headers: Record<string, string> = {},
      error = loginError(status, message, headers),
    ) => {
      if (json) return sendJson(res, status, error.toJSON(), { 'cache-control': 'no-store', ...headers });
      res.writeHead(303, {
        location: `/login?error=${status === 429 || status === 503 ? 'locked' : 'invalid'}`,
        'cache-control': 'no-store',
        ...headers,
      });
      res.end();
    };
    /** A refusal thrown by the limiter, the hashing gate or the state store, answered as it is. */
    const refuse = (error: unknown) => {
      const refused = toGatewayError(error);
      return fail(refused.status, refused.message, refused.headers ?? {}, refused);
    };
    if (!this.#sameOrigin(req)) return void this.#forbidden(res);
    let blocked: number;
    try {
      blocked = await this.#limiter.blockedFor(address);
    } catch (error) {
      req.resume();
      return refuse(error);
    }
    if (blocked > 0) {
      req.resume();
      return fail(429, `Too many failed logins; try again in ${blocked} s`, { 'retry-after': String(blocked) });
    }
    let username: unknown = '';
    let password: unknown = '';
    try {
      const body = (await readBody(req, 16 * 1024)).toString('utf8');
      if (json)
        ({ username = '', password = '' } = (JSON.parse(body) ?? {}) as { username?: unknown; password?: unknown });
      else {
        const form = new URLSearchParams(body);
        username = form.get('username') ?? '';
        password = form.get('password') ?? '';
      }
    } catch {
      return fail(400, 'Send a username and a password');
    }
    if (typeof username !== 'string' || typeof password !== 'string')
      return fail(400, 'Send a username and a password');
    let ok: boolean;
    try {
      ok = await checkLogin(this.#deps.auth, this.#limiter, address, username, password);
    } catch (error) {
      return refuse(error);
    }
    if (!ok) {
      this.#deps.log.info({ username: username.slice(0, 64), clientIp: address }, 'back-office login failed');
      return fail(401, 'Wrong user name or password');
    }
    let token: string;
    try {
      token = await this.#sessions.create(username);
    } catch (error) {
      return refuse(error);
    }
    const cookie = sessionCookie(token, isHttps(req));
    if (json) return sendJson(res, 200, { ok: true }, { 'set-cookie': cookie, 'cache-control': 'no-store' });
    res.writeHead(303, { location: '/', 'set-cookie': cookie, 'cache-control': 'no-store' });
    res.end();
  }

  /** Browsers send Origin on cross-site POSTs and on every WebSocket: it must be ours. */
  #sameOrigin(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return req.headers.upgrade === undefined; // non-browser clients (curl) POST without Origin
    return origin === `${isHttps(req) ? 'https' : 'http'}://${req.headers.host}`;
  }

  #forbidden(res: ServerResponse): true {
    sendJson(res, 403, new ForbiddenError('Cross-origin requests are not accepted').toJSON());
    return true;
  }

  #asset(res: ServerResponse, name: string): void {
    const asset = this.#assets.get(name)!;
    res.writeHead(200, {
      'content-type': asset.type,
      'content-length': asset.body.length,
      'cache-control': name.endsWith('.html') ? 'no-store' : 'no-cache',
      ...SECURITY_HEADERS,
    });
    res.end(asset.body);
  }
}

function isHttps(req: IncomingMessage): boolean {
  return Boolean((req.socket as { encrypted?: boolean }).encrypted);
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
}
