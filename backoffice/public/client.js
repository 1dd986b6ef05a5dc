// The back office's WebSocket client: requests with ids and promises, pushed events to listeners.
export class Client {
  #ws = null;
  #next = 1;
  #pending = new Map();
  #listeners = new Set();
  #queue = [];

  connect() {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
    this.#ws = new WebSocket(url);
    this.#ws.addEventListener('open', () => {
      for (const message of this.#queue.splice(0)) this.#ws.send(message);
      this.#emit({ event: 'connected' });
    });
    this.#ws.addEventListener('message', (e) => {
      const message = JSON.parse(e.data);
      if (message.event) return this.#emit(message);
      const pending = this.#pending.get(message.id);
      if (!pending) {
        if (message.error?.error === 'session_expired') location.href = '/login?error=expired';
        return;
      }
      this.#pending.delete(message.id);
      if (message.ok) pending.resolve(message.result);
      else pending.reject(Object.assign(new Error(message.error.error_description), message.error));
    });
    this.#ws.addEventListener('close', (e) => {
      this.#emit({ event: 'disconnected', code: e.code });
      for (const { reject } of this.#pending.values()) reject(new Error('Connection lost'));
      this.#pending.clear();
      if (e.code === 4401 || e.code === 1006 && !this.#everOpened) { location.href = '/login?error=expired'; return; }
      setTimeout(() => this.connect(), 1000);
    });
    this.#ws.addEventListener('open', () => { this.#everOpened = true; }, { once: true });
  }
  #everOpened = false;

  request(op, entity, payload = {}) {
    const id = this.#next++;
    const message = JSON.stringify({ id, op, entity, payload });
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(message);
      else this.#queue.push(message);
    });
  }

  on(listener) { this.#listeners.add(listener); return () => this.#listeners.delete(listener); }
  #emit(message) { for (const l of this.#listeners) l(message); }
}
