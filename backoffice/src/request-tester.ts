// The route page's "Test" panel: compose a request, run it through the route's real pipeline
// (the `test` action, POST /api/routes/:id/test) and draw the trace the gateway answers.
import { failure } from './client.js';
import { codeBlock, h, nextId, toast } from './dom.js';

import type { Client } from './client.js';
// The trace's shape is the server's (the request tester in core/http), imported as a type, never copied.
import type { Trace } from '../../core/http/request-tester.js';
export type KeyChoice = { clientId: string; clientName: string; authorizedEntities?: string[]; enabled?: boolean };
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

type TestedRoute = { id: string; frontend: { domains: string[] } };

function testerField(label: string, control: HTMLElement, hint: string = '') {
  control.id ||= nextId('tester');
  return h(
    'div',
    { class: 'field' },
    h('label', { for: control.id }, label),
    control,
    hint ? h('p', { class: 'hint' }, hint) : null,
  );
}

/** The headers fieldset: name/value rows added and removed; `read` gives the named ones. */
function headerEditor() {
  const headerRows = h('div', { class: 'header-rows' });
  const addHeaderRow = () => {
    const n = h('input', {
      type: 'text',
      value: '',
      'aria-label': 'Header name',
      placeholder: 'Name',
      class: 'header-name',
    });
    const v = h('input', {
      type: 'text',
      value: '',
      'aria-label': 'Header value',
      placeholder: 'Value',
      class: 'header-value',
    });
    const row = h(
      'div',
      { class: 'header-row' },
      n,
      v,
      h('button', { type: 'button', 'aria-label': 'Remove header', onclick: () => row.remove() }, '×'),
    );
    headerRows.append(row);
    n.focus();
  };
  const element = h(
    'fieldset',
    {},
    h('legend', {}, 'Headers'),
    headerRows,
    h('button', { type: 'button', onclick: addHeaderRow }, 'Add header'),
  );
  const read = () => {
    const headers: Record<string, string> = {};
    for (const row of headerRows.querySelectorAll('.header-row')) {
      const name = (row.querySelector('.header-name') as HTMLInputElement).value.trim();
      if (name) headers[name] = (row.querySelector('.header-value') as HTMLInputElement).value;
    }
    return headers;
  };
  return { element, read };
}

/** The API keys offered as credentials, the ones authorized for this route first (the ones a test most likely wants). */
function loadKeys(client: Client, routeId: string, keySelect: HTMLSelectElement) {
  client.request('list', 'apikeys').then(
    (keys) => {
      const list = keys as KeyChoice[];
      list.sort((a, b) => Number(authorized(b, routeId)) - Number(authorized(a, routeId)));
      keySelect.replaceChildren(
        ...list.map((k) =>
          h(
            'option',
            { value: k.clientId },
            `${k.clientName} (${k.clientId})${authorized(k, routeId) ? '' : ' — not authorized here'}`,
          ),
        ),
      );
    },
    () => {
      keySelect.replaceChildren(h('option', { value: '' }, 'API keys unavailable'));
    },
  );
}

/**
 * The credential picked: none, an API key (secrets are stored hashed, so the key's secret is typed
 * here and sent as Basic) or a bearer token; `authorization` gives the header's value, if any.
 */
function credentialFields(client: Client, routeId: string) {
  const credential = h(
    'select',
    { name: 'credential' },
    h('option', { value: 'none' }, 'None'),
    h('option', { value: 'apikey' }, 'API key (Basic)'),
    h('option', { value: 'bearer' }, 'Bearer token'),
  );
  const keySelect = h('select', { name: 'apikey' });
  const keySecret = h('input', { type: 'password', name: 'secret', autocomplete: 'off' });
  const bearer = h('textarea', { name: 'token', rows: 2 });
  const keyFields = h(
    'div',
    { hidden: true },
    testerField('API key', keySelect),
    testerField('Secret of this key', keySecret, 'Secrets are stored hashed: type the one the client holds.'),
  );
  const bearerFields = h('div', { hidden: true }, testerField('Token', bearer, 'Sent as Authorization: Bearer …'));
  credential.addEventListener('change', () => {
    keyFields.hidden = credential.value !== 'apikey';
    bearerFields.hidden = credential.value !== 'bearer';
  });
  loadKeys(client, routeId, keySelect);
  const authorization = () => {
    if (credential.value === 'apikey' && keySelect.value)
      return `Basic ${btoa(unescape(encodeURIComponent(`${keySelect.value}:${keySecret.value}`)))}`;
    if (credential.value === 'bearer' && bearer.value.trim()) return `Bearer ${bearer.value.trim()}`;
    return undefined;
  };
  return { elements: [testerField('Credential', credential), keyFields, bearerFields], authorization };
}

/** The path a test starts from: the first domain's prefix, if it has one. */
function startPath(route: TestedRoute) {
  const firstDomain = route.frontend.domains[0] ?? '';
  const slash = firstDomain.indexOf('/');
  return `${slash === -1 ? '' : firstDomain.slice(slash).replace(/\/+$/, '')}/`;
}

export function requestTesterPanel(client: Client, route: TestedRoute): HTMLElement {
  const method = h(
    'select',
    { name: 'method' },
    METHODS.map((m) => h('option', { value: m }, m)),
  );
  const path = h('input', { name: 'path', type: 'text', value: startPath(route) });
  const headers = headerEditor();
  const credentials = credentialFields(client, route.id);
  const body = h('textarea', { name: 'body', rows: 4 });
  const result = h('section', { class: 'trace-result', 'aria-live': 'polite', 'aria-label': 'Trace' });
  const dryRun = h('button', { type: 'submit', class: 'primary', value: 'dry' }, 'Send (dry run)');
  const sendUpstream = h('button', { type: 'submit', value: 'send' }, 'Send to upstream');
  const compose = (send: boolean) => {
    const sent = headers.read();
    const authorization = credentials.authorization();
    if (authorization) sent.Authorization = authorization;
    const request: Record<string, unknown> = { method: method.value, path: path.value, headers: sent, send };
    if (body.value !== '') request.body = body.value;
    return request;
  };
  const onsubmit = async (e: SubmitEvent) => {
    e.preventDefault();
    const send = (e.submitter as HTMLButtonElement | null)?.value === 'send';
    dryRun.disabled = sendUpstream.disabled = true;
    await runTest(client, route.id, compose(send), result);
    dryRun.disabled = sendUpstream.disabled = false;
  };
  return h(
    'form',
    { class: 'editor tester', 'aria-labelledby': 'tester-title', novalidate: true, onsubmit },
    h('h2', { id: 'tester-title' }, 'Test'),
    h(
      'p',
      { class: 'hint' },
      "Runs a request through this route's plugins as the gateway would, and shows what each one decided. A dry run sends nothing upstream.",
    ),
    h('div', { class: 'tester-line' }, testerField('Method', method), testerField('Path', path)),
    headers.element,
    credentials.elements,
    testerField('Body', body),
    h('div', { class: 'form-actions' }, dryRun, sendUpstream),
    result,
  );
}

/** The `test` action with this request; its trace, or the refusal, drawn in `result`. */
async function runTest(client: Client, routeId: string, request: Record<string, unknown>, result: HTMLElement) {
  try {
    const trace = (await client.request('action', 'routes', { id: routeId, action: 'test', body: request })) as Trace;
    result.replaceChildren(...drawTrace(trace));
  } catch (error) {
    const { message } = failure(error);
    result.replaceChildren(h('p', { class: 'error' }, message));
    toast(message, 'bad');
  }
}

function authorized(key: KeyChoice, routeId: string) {
  return (key.authorizedEntities ?? []).includes(routeId);
}

export function drawTrace(trace: Trace): HTMLElement[] {
  const out: HTMLElement[] = [h('h3', {}, 'Trace')];
  if (trace.routedTo !== trace.route) {
    out.push(
      h(
        'p',
        { class: 'warn-note' },
        trace.routedTo === null
          ? 'Note: the proxy would match no route for this host, path and method; the trace runs this route anyway.'
          : `Note: the proxy would send this request to route ${trace.routedTo}; the trace runs this route anyway.`,
      ),
    );
  }
  out.push(
    h(
      'ol',
      { class: 'trace-steps' },
      trace.steps.length === 0
        ? h('li', { class: 'muted' }, 'No plugin step on this route.')
        : trace.steps.map((step) =>
            h(
              'li',
              { class: 'trace-step', dataset: { decision: step.decision } },
              h('span', { class: `decision decision-${step.decision}` }, step.decision),
              ' ',
              h('strong', {}, step.plugin),
              h('span', { class: 'muted' }, ` ${step.phase}`),
              step.status !== undefined ? h('span', {}, ` ${step.status}`) : null,
              step.error ? h('code', {}, ` ${step.error}`) : null,
              step.message ? h('span', {}, ` — ${step.message}`) : null,
              h('span', { class: 'muted step-time' }, ` ${formatUs(step.durationUs)}`),
            ),
          ),
    ),
  );
  const outcome = trace.outcome;
  out.push(
    h(
      'p',
      { class: 'trace-outcome' },
      'Outcome: ',
      h('span', { class: `decision decision-${outcome.decision}` }, outcome.decision),
      outcome.plugin ? ` by ${outcome.plugin}` : '',
      outcome.status !== undefined ? ` (${outcome.status}${outcome.error ? ` ${outcome.error}` : ''})` : '',
      ` in ${formatUs(trace.durationUs)}`,
    ),
  );
  if (trace.answer)
    out.push(
      h('h4', {}, `Answered by the plugin: ${trace.answer.status}`),
      headerList(trace.answer.headers),
      codeBlock(trace.answer.body, "Body of the plugin's answer"),
    );
  out.push(h('h4', {}, 'Upstream request'));
  if (trace.upstreamRequest)
    out.push(
      h('p', { class: 'upstream-line' }, h('code', {}, `${trace.upstreamRequest.method} ${trace.upstreamRequest.url}`)),
      headerList(trace.upstreamRequest.headers),
    );
  else out.push(h('p', { class: 'muted' }, 'None: the request does not leave the gateway.'));
  out.push(h('h4', {}, 'Upstream answer'));
  const upstream = trace.upstream;
  if (!upstream.sent) out.push(h('p', { class: 'upstream-answer muted' }, upstream.reason));
  else if ('error' in upstream)
    out.push(h('p', { class: 'upstream-answer error' }, `${upstream.status} ${upstream.error}: ${upstream.message}`));
  else {
    out.push(
      h('p', { class: 'upstream-answer' }, `Status ${upstream.status} in ${formatUs(upstream.durationUs)}`),
      headerList(upstream.headers),
      codeBlock(upstream.body, "Body of the upstream's answer"),
    );
    if (upstream.truncated) out.push(h('p', { class: 'hint' }, 'Body truncated.'));
  }
  return out;
}

function headerList(headers: Record<string, string>) {
  return h(
    'dl',
    { class: 'header-list' },
    Object.entries(headers).map(([name, value]) => [h('dt', {}, name), h('dd', {}, value)]),
  );
}

function formatUs(us: number) {
  return us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us} µs`;
}
