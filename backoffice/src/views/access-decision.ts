// An access request's decision form: approve (the scopes and quotas granted), reject (with the
// reason the requester is told) or revoke; sent as the request's action, refusals shown in the form.
import { failure } from '../client.js';
import { h, toast, nextId } from '../dom.js';

import type { AccessRequest, AuthorizationProfile, Quotas } from '../shapes.js';
import type { ViewContext } from './context.js';

export const QUOTA_LABELS = [
  ['throttlingQuota', 'Calls per second (throttling quota)'],
  ['dailyQuota', 'Calls per day (daily quota)'],
  ['monthlyQuota', 'Calls per month (monthly quota)'],
] as [keyof Quotas, string][];

/** One request's page: the request and its profile as last drawn, the page's parts, and how to redraw. */
export type RequestPage = {
  ctx: ViewContext;
  id: string;
  request: AccessRequest;
  profile: AuthorizationProfile;
  actions: HTMLElement;
  info: HTMLElement;
  decision: HTMLElement;
  trail: HTMLElement;
  deliveries: HTMLElement;
  draw: () => Promise<AccessRequest>;
};

export type Decision = 'approve' | 'reject' | 'revoke';

/** The approval's extra fields and the part of the action's body they give. */
type Fields = { fields: (HTMLElement | null)[]; body: () => Record<string, unknown> };

const VERB = { approve: 'approval', reject: 'rejection', revoke: 'revocation' };
const DONE = { approve: 'approved', reject: 'rejected', revoke: 'revoked' };
const TITLE = { approve: 'Approve', reject: 'Reject', revoke: 'Revoke' };

const lines = (text: string) =>
  text
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean);

/** The granted scopes: the requested ones and the profile's literal ones as boxes, others typed within its wildcards. */
function scopeFields(request: AccessRequest, profile: AuthorizationProfile) {
  const literal = profile.scopes.filter((s) => !s.endsWith('/*'));
  const choices = [...new Set([...request.requestedScopes, ...literal])];
  const boxes = choices.map((scope) =>
    h('input', {
      type: 'checkbox',
      value: scope,
      checked: request.requestedScopes.includes(scope),
      id: nextId('scope'),
    }),
  );
  const wildcards = profile.scopes.filter((s) => s.endsWith('/*'));
  const others = h('textarea', {
    id: 'decision-other-scopes',
    rows: 2,
    spellcheck: false,
    'aria-describedby': 'decision-other-scopes-hint',
  });
  const fields = [
    h(
      'fieldset',
      { class: 'enum-set' },
      h('legend', {}, 'Granted scopes'),
      h(
        'p',
        { class: 'hint' },
        `Requested: ${request.requestedScopes.join(' ') || 'none'}. The profile offers: ${profile.scopes.join(' ') || 'none'}.`,
      ),
      h(
        'div',
        { class: 'choices' },
        boxes.map((box) => h('span', { class: 'field inline' }, box, h('label', { for: box.id }, box.value))),
      ),
    ),
    wildcards.length
      ? h(
          'div',
          { class: 'field' },
          h('label', { for: others.id }, 'Other scopes (one per line)'),
          others,
          h('p', { class: 'hint', id: 'decision-other-scopes-hint' }, `Within ${wildcards.join(', ')}.`),
        )
      : null,
  ];
  const scopes = () => [...new Set([...boxes.filter((b) => b.checked).map((b) => b.value), ...lines(others.value)])];
  return { fields, scopes };
}

/** The quotas granted, the profile's defaults to adjust (empty: unlimited). */
function quotaFields(profile: AuthorizationProfile) {
  const quotas = QUOTA_LABELS.map(([k, label]) => {
    const input = h('input', {
      type: 'number',
      min: 1,
      step: 1,
      id: `decision-${k}`,
      value: profile.quotas[k] ?? '',
      'aria-describedby': 'decision-quotas-hint',
    });
    return { k, label, input };
  });
  const field = h(
    'fieldset',
    {},
    h('legend', {}, 'Quotas'),
    h('p', { class: 'hint', id: 'decision-quotas-hint' }, "The profile's defaults, to adjust; empty: unlimited."),
    h(
      'div',
      { class: 'row' },
      quotas.map(({ label, input }) => h('div', { class: 'field' }, h('label', { for: input.id }, label), input)),
    ),
  );
  const read = () =>
    Object.fromEntries(quotas.map(({ k, input }) => [k, input.value === '' ? null : Number(input.value)]));
  return { field, read };
}

function approvalFields(request: AccessRequest, profile: AuthorizationProfile): Fields {
  const scopes = scopeFields(request, profile);
  const quotas = quotaFields(profile);
  return {
    fields: [...scopes.fields, quotas.field],
    body: () => ({ scopes: scopes.scopes(), quotas: quotas.read() }),
  };
}

function decisionHint(name: Decision, profile: AuthorizationProfile) {
  return {
    approve: "Enables the API key with these scopes, the profile's routes and these quotas.",
    reject: `The requester is told why. The API key is ${profile.onReject === 'delete' ? 'deleted' : 'kept disabled'}.`,
    revoke: 'Disables the API key and revokes every token issued to it.',
  }[name];
}

/** Why a failed decision was refused, in the form's alert. */
function showRefusal(error: HTMLElement, err: unknown) {
  const { message, details } = failure(err);
  error.replaceChildren(
    h('strong', {}, message),
    ...(details.length
      ? [
          h(
            'ul',
            {},
            details.map((d) => h('li', {}, `${d.path}: ${d.message}`)),
          ),
        ]
      : []),
  );
  error.hidden = false;
  toast(message, 'bad');
}

/** Send the decision; the form closes and the page redraws, or the refusal shows in the form. */
async function submitDecision(p: RequestPage, name: Decision, form: DecisionForm) {
  const { reason, error, confirmButton, body } = form;
  if (name === 'reject' && reason.value.trim() === '') {
    error.replaceChildren(h('strong', {}, 'A rejection needs a reason: the requester is told it.'));
    error.hidden = false;
    reason.focus();
    return;
  }
  confirmButton.disabled = true;
  try {
    await p.ctx.client.request('action', 'access-requests', {
      id: p.id,
      action: name,
      body: { ...body(), ...(reason.value.trim() ? { reason: reason.value.trim() } : {}) },
    });
    toast(`Request ${DONE[name]}`);
    p.decision.replaceChildren();
    await p.draw();
  } catch (err) {
    showRefusal(error, err);
  } finally {
    confirmButton.disabled = false;
  }
}

type DecisionForm = {
  reason: HTMLTextAreaElement;
  error: HTMLElement;
  confirmButton: HTMLButtonElement;
  body: () => Record<string, unknown>;
};

export function openDecision(p: RequestPage, name: Decision) {
  const { request, profile } = p;
  const { fields, body } = name === 'approve' ? approvalFields(request, profile) : { fields: [], body: () => ({}) };
  const parts: DecisionForm = {
    reason: h('textarea', { id: 'decision-reason', rows: 2, required: name === 'reject' }),
    error: h('div', { class: 'form-errors', role: 'alert', hidden: true }),
    confirmButton: h(
      'button',
      { type: 'submit', class: name === 'approve' ? 'primary' : 'danger' },
      `Confirm ${VERB[name]}`,
    ),
    body,
  };
  const onsubmit = (e: Event) => {
    e.preventDefault();
    return submitDecision(p, name, parts);
  };
  const form = h(
    'form',
    { class: 'card decision-form', 'aria-labelledby': 'decision-title', novalidate: true, onsubmit },
    h('h2', { id: 'decision-title' }, `${TITLE[name]} the request of ${request.requester.name}`),
    h('p', { class: 'hint' }, decisionHint(name, profile)),
    parts.error,
    fields,
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'decision-reason' }, name === 'reject' ? 'Reason' : 'Reason (optional)'),
      parts.reason,
    ),
    h(
      'div',
      { class: 'form-actions' },
      parts.confirmButton,
      h('button', { type: 'button', onclick: () => p.decision.replaceChildren() }, 'Cancel'),
    ),
  );
  p.decision.replaceChildren(form);
  (form.querySelector('input, textarea') as HTMLElement | null)?.focus();
}
