// The back office's WebSocket client: requests with ids and promises, pushed events to listeners.

import type { ClientRequest, Entities, ErrorDetail, Reply } from './shapes.js';

export type { ErrorDetail };
export type ServerEvent = { event: string; [field: string]: unknown };
export type Listener = (message: ServerEvent) => void;
export type Pending = { resolve: (result: unknown) => void; reject: (error: Error) => void };

/**
 * What a failed request reports: the message and, for validation errors, one detail per field.
 */
export function failure(error: unknown): { message: string; details: ErrorDetail[] } {
  const details = (error as { details?: ErrorDetail[] })?.details;
  return {
    message: error instanceof Error ? error.message : String(error),
    details: Array.isArray(details) ? details : [],
  };
}

export class Client {
  #ws: WebSocket | null = null;
  #next = 1;
  #pending: Map<number, Pending> = new Map();
  #listeners: Set<Listener> = new Set();
  #queue: string[] = [];

  connect() {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
    const ws = new WebSocket(url);
    this.#ws = ws;
    ws.addEventListener('open', () => {
      for (const message of this.#queue.splice(0)) ws.send(message);
      this.#emit({ event: 'connected' });
    });
    ws.addEventListener('message', (e) => {
      const message = JSON.parse(e.data) as ServerEvent | Reply;
      if ('event' in message) return this.#emit(message);
      const pending = typeof message.id === 'number' ? this.#pending.get(message.id) : undefined;
      if (!pending) {
        if (!message.ok && message.error.error === 'session_expired') location.href = '/login?error=expired';
        return;
      }
      this.#pending.delete(message.id as number);
      if (message.ok) pending.resolve(message.result);
      else pending.reject(Object.assign(new Error(message.error.error_description), message.error));
    });
    ws.addEventListener('close', (e) => {
      this.#emit({ event: 'disconnected', code: e.code });
      for (const { reject } of this.#pending.values()) reject(new Error('Connection lost'));
      this.#pending.clear();
      if (e.code === 4401 || (e.code === 1006 && !this.#everOpened)) {
        location.href = '/login?error=expired';
        return;
      }
      setTimeout(() => this.connect(), 1000);
    });
    ws.addEventListener(
      'open',
      () => {
        this.#everOpened = true;
      },
      { once: true },
    );
  }
  #everOpened = false;

  /**
   * One request; the promise rejects with the server's error (message, `details`, `status`, `error`).
   */
  request<K extends keyof Entities>(op: 'list', entity: K, payload?: Record<string, unknown>): Promise<Entities[K][]>;
  request<K extends keyof Entities>(op: 'get', entity: K, payload?: Record<string, unknown>): Promise<Entities[K]>;
  request(op: ClientRequest['op'], entity: string, payload?: Record<string, unknown>): Promise<unknown>;
  request(op: ClientRequest['op'], entity: string, payload: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.#next++;
    const message = JSON.stringify({ id, op, entity, payload });
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(message);
      else this.#queue.push(message);
    });
  }

  on(listener: Listener) {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  #emit(message: ServerEvent) {
    for (const l of this.#listeners) l(message);
  }
}
