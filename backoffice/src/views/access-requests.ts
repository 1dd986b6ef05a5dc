// The access requests screen: the queue (pending first), and one request's page with what was
// asked, the decision forms, the audit trail and the webhook log.
import { h } from '../dom.js';
import { table } from './common.js';
import { profileChoices } from '../choices.js';
import { openDecision, QUOTA_LABELS, type RequestPage } from './access-decision.js';

import type { Child } from '../dom.js';
import type { AccessRequest, AuditEvent, AuthorizationProfile, Delivery, Quotas, RequestState } from '../shapes.js';
import type { ViewContext } from './context.js';

const REQUEST_STATES = ['pending', 'approved', 'rejected', 'revoked'] as RequestState[];
const when = (iso?: string) => (iso ? new Date(iso).toLocaleString() : '—');
const quotaText = (quotas?: Quotas) =>
  QUOTA_LABELS.map(([k, label]) => `${label.replace(/ \(.*/, '')}: ${quotas?.[k] ?? 'unlimited'}`).join(' · ');
const stateBadge = (state: RequestState) => h('span', { class: `badge state-${state}` }, state);

/**
 * The queue: pending requests first, oldest first (the order they wait in), then the decided ones,
 * latest decision first; filtered by state.
 */
export async function accessRequestsView(ctx: ViewContext, id?: string) {
  ctx.screen.entities = ['access-requests', 'authorization-profiles'];
  if (id) return accessRequestPage(ctx, id);
  const stateSelect = h(
    'select',
    { id: 'requests-state', onchange: () => draw() },
    h('option', { value: '' }, 'Any state'),
    REQUEST_STATES.map((s) => h('option', { value: s, selected: s === 'pending' }, s)),
  );
  // The profiles a request may name, from the live list; the queue shows one profile's or every one's.
  const profileSelect = h(
    'select',
    { id: 'requests-profile', onchange: () => draw() },
    h('option', { value: '' }, 'Any profile'),
  );
  const list = h('div', {});
  const draw = () => drawQueue(ctx, { state: stateSelect.value, profile: profileSelect.value }, list, profileSelect);
  ctx.screen.refresh = draw;
  ctx.page(
    'Access requests',
    [
      h('div', { class: 'field inline' }, h('label', { for: 'requests-state' }, 'State'), stateSelect),
      h('div', { class: 'field inline' }, h('label', { for: 'requests-profile' }, 'Profile'), profileSelect),
    ],
    h(
      'p',
      { class: 'muted' },
      'Requests for credentials made through a portal (POST /api/access-requests). Each has an API key, disabled until it is approved.',
    ),
    list,
  );
  await draw();
}

function queueRow(r: AccessRequest, names: Map<string, string>) {
  return h(
    'tr',
    { dataset: { request: r.id } },
    h('th', { scope: 'row' }, h('a', { href: `#/access-requests/${encodeURIComponent(r.id)}` }, r.requester.name)),
    h('td', {}, names.get(r.profileId) ?? r.profileId),
    h('td', {}, r.requestedScopes.join(' ') || '—'),
    h('td', {}, stateBadge(r.state)),
    h('td', {}, when(r.createdAt)),
    h('td', {}, r.decidedAt ? `${when(r.decidedAt)} by ${r.decidedBy}` : '—'),
  );
}

/** The profile filter's options: every live profile, the one chosen kept even once it is gone. */
function fillProfiles(select: HTMLSelectElement, profiles: AuthorizationProfile[]) {
  const chosen = select.value;
  const choices = profileChoices(profiles);
  if (chosen && !choices.some((c) => c.value === chosen)) choices.push({ value: chosen, label: chosen });
  select.replaceChildren(
    h('option', { value: '' }, 'Any profile'),
    ...choices.map((c) => h('option', { value: c.value, selected: c.value === chosen }, c.label)),
  );
}

async function drawQueue(
  ctx: ViewContext,
  { state, profile }: { state: string; profile: string },
  list: HTMLElement,
  profileSelect: HTMLSelectElement,
) {
  const query: Record<string, string> = {};
  if (state) query.state = state;
  if (profile) query.profile = profile;
  const [requests, profiles] = (await Promise.all([
    ctx.client.request('list', 'access-requests', { query }),
    ctx.client.request('list', 'authorization-profiles'),
  ])) as [AccessRequest[], AuthorizationProfile[]];
  fillProfiles(profileSelect, profiles);
  const names = new Map(profiles.map((p) => [p.id, p.name]));
  const pending = requests.filter((r) => r.state === 'pending');
  const decided = requests
    .filter((r) => r.state !== 'pending')
    .sort((a, b) => (b.decidedAt ?? '').localeCompare(a.decidedAt ?? ''));
  const rows = [...pending, ...decided].map((r) => queueRow(r, names));
  const shown = `${state || 'any state'}${profile ? `, profile ${names.get(profile) ?? profile}` : ''}`;
  list.replaceChildren(
    h(
      'p',
      { class: 'muted', role: 'status' },
      `${requests.length} request${requests.length === 1 ? '' : 's'} (${shown}).`,
    ),
    table(
      ['Requester', 'Profile', 'Requested scopes', 'State', 'Requested', 'Decided'],
      rows,
      state === 'pending' ? 'No pending requests: the queue is empty.' : 'No access requests match.',
    ),
  );
}

/**
 * One request: what was asked, the decision, the audit trail and the webhook log. The decision
 * forms stay open while the page refreshes (another manager may decide meanwhile: the server then
 * answers 409, shown in the form).
 */
async function accessRequestPage(ctx: ViewContext, id: string) {
  const part = () => h('div', {});
  // The request, its profile and `draw` are set below, before anything reads them.
  const p = {
    ctx,
    id,
    actions: h('div', { class: 'actions' }),
    info: part(),
    decision: part(),
    trail: part(),
    deliveries: part(),
  } as Omit<RequestPage, 'request' | 'profile' | 'draw'> as RequestPage;
  p.draw = () => drawRequest(p);
  ctx.screen.refresh = p.draw;
  const shown = await p.draw();
  ctx.page(
    `Access request: ${shown.requester.name}`,
    p.actions,
    h('p', {}, h('a', { href: '#/access-requests' }, '← The queue')),
    p.info,
    p.decision,
    h('h2', {}, 'Audit trail'),
    p.trail,
    h('h2', {}, 'Webhook deliveries'),
    p.deliveries,
  );
}

async function drawRequest(p: RequestPage) {
  const { client } = p.ctx;
  const id = p.id;
  p.request = await client.request('get', 'access-requests', { id });
  const [profile, events, log] = await Promise.all([
    client.request('get', 'authorization-profiles', { id: p.request.profileId }),
    client.request('get', 'access-requests', { id, part: 'events' }) as Promise<unknown> as Promise<AuditEvent[]>,
    client.request('get', 'access-requests', { id, part: 'deliveries' }) as Promise<unknown> as Promise<Delivery[]>,
  ]);
  p.profile = profile;
  p.info.replaceChildren(
    h(
      'dl',
      { class: 'facts card' },
      requestFacts(p.request, profile).map(([term, detail]) => [h('dt', {}, term), h('dd', {}, detail)]),
    ),
  );
  p.actions.replaceChildren(...decisionButtons(p));
  p.trail.replaceChildren(auditTrail(events));
  p.deliveries.replaceChildren(deliveryLog(log, profile));
  return p.request;
}

function requestFacts(request: AccessRequest, profile: AuthorizationProfile): [string, Child][] {
  const { requester } = request;
  return [
    [
      'Requester',
      [
        requester.name,
        ' ',
        h('span', { class: 'muted' }, `(${requester.id}, `),
        h('a', { href: `mailto:${requester.email}` }, requester.email),
        h('span', { class: 'muted' }, ')'),
      ],
    ],
    ['Profile', h('a', { href: `#/profiles/${encodeURIComponent(profile.id)}` }, profile.name)],
    ['Requested scopes', request.requestedScopes.join(' ') || '—'],
    ['Justification', request.justification || '—'],
    ['Client authentication', request.clientAuthentication.method],
    ['State', stateBadge(request.state)],
    ['Granted scopes', request.grantedScopes ? request.grantedScopes.join(' ') || '(none)' : '—'],
    // Set at approval; a pending or rejected request's are not what anyone was granted.
    ['Quotas', request.grantedScopes && request.quotas ? quotaText(request.quotas) : '—'],
    ['Decided by', request.decidedBy ?? '—'],
    ['Decided at', when(request.decidedAt)],
    ['Reason', request.reason ?? '—'],
    [
      'API key',
      request.apiKeyId ? h('a', { href: `#/apikeys/${encodeURIComponent(request.apiKeyId)}` }, request.apiKeyId) : '—',
    ],
    ['Requested', `${when(request.createdAt)} by ${request.createdBy}`],
  ];
}

/** What can be decided now: approve or reject a pending request, revoke an approved one. */
function decisionButtons(p: RequestPage) {
  const button = (name: 'approve' | 'reject' | 'revoke', cls: string, label: string) =>
    h('button', { type: 'button', class: cls, onclick: () => openDecision(p, name) }, label);
  if (p.request.state === 'pending')
    return [button('approve', 'primary', 'Approve…'), button('reject', 'danger', 'Reject…')];
  if (p.request.state === 'approved') return [button('revoke', 'danger', 'Revoke…')];
  return [];
}

function auditTrail(events: AuditEvent[]) {
  return table(
    ['When', 'Who', 'From', 'To', 'Reason'],
    events.map((e) =>
      h(
        'tr',
        {},
        h('td', {}, when(e.at)),
        h('td', {}, e.actor),
        h('td', {}, e.from ?? '(created)'),
        h('td', {}, e.to),
        h('td', {}, e.reason ?? '—'),
      ),
    ),
    'No events.',
  );
}

function deliveryLog(log: Delivery[], profile: AuthorizationProfile) {
  return table(
    ['Event', 'URL', 'State', 'Attempts', 'Last attempt'],
    log.map((d) => {
      const last = d.attempts.at(-1);
      return h(
        'tr',
        {},
        h('td', {}, d.type),
        h('td', { class: 'path' }, d.url),
        h('td', {}, d.state),
        h('td', { class: 'num' }, d.attempts.length),
        h('td', {}, last ? `${when(last.at)}: ${last.status ?? last.error ?? '—'}` : '—'),
      );
    }),
    profile.webhook ? 'No deliveries yet.' : 'No webhook: the profile has none.',
  );
}
