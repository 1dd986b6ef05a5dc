// Forms drawn from JSON Schema (the TypeBox schemas the server validates with): every field has a
// label, a description, and an error slot keyed by its JSON path, so server-side validation errors
// show beside the field they concern.
import { h, nextId } from './dom.js';

import type { ErrorDetail } from './client.js';
export type JsonObject = Record<string, unknown>;
/** The JSON Schema keywords the forms read (the server's TypeBox schemas). */
export interface JsonSchema {
  type?: string;
  title?: string;
  description?: string;
  /** `password`: a secret typed into a masked input */
  format?: string;
  default?: unknown;
  const?: unknown;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, JsonSchema>;
  patternProperties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  /** a secret the server never shows back (a digest stands for it) */
  writeOnly?: boolean;
}
export type KindedVariant = JsonSchema & { properties: Record<string, JsonSchema> & { kind: { const: string } } };
export type PluginInfo = {
  id: string;
  name: string;
  description: string;
  steps: string[];
  globalOnly?: boolean;
  configSchema: JsonSchema;
  defaultConfig?: unknown;
};
/** A metadata entry picked from a known set (the signing key pair, the authorization profile) instead of typed. */
export type MetadataPicker = { key: string; label: string; hint: string; none: string; choices: Choice[] };
/** One of a known set of values, as a picker shows it. */
export type Choice = { value: string; label: string };
export interface FormOptions {
  /** plugins: enables the plugin-instance editor */
  catalog?: PluginInfo[] | null;
  /** entries of `/metadata` drawn as selects of a known set, out of the key=value text */
  metadataPickers?: MetadataPicker[];
  /** JSON path (a `*` segment: any list index) → the known set of values of a string list there (drawn as checkboxes, not typed) */
  choices?: Record<string, Choice[]>;
  /** JSON paths not shown */
  hide?: string[];
  /** the value of an item added to the list at `path` */
  newItem?: (path: string) => unknown;
  /** whether global-only plugins may be chosen */
  global?: boolean;
  /** JSON paths shown only while the predicate holds for the whole form's value; a hidden field is not sent */
  visibleWhen?: Record<string, (value: JsonObject) => boolean>;
  /**
   * whether the form edits what the server holds: its write-only fields (JSON Schema `writeOnly`) are
   * set wherever their object was read (reads never carry them, so the form cannot tell from the value)
   */
  stored?: boolean;
  /** the value the form was drawn from (schemaForm sets it) */
  root?: unknown;
  /** controls beside a write-only field that holds a stored value (e.g. a rotate button) */
  writeOnlyActions?: (path: string) => import('./dom.js').Child;
  /** whether a stored write-only secret at this path may be replaced by typing a new one (a "Replace" button shows an input; left empty, the stored one stays) */
  replaceableSecret?: (path: string) => boolean;
  /** JSON paths (a `*` segment: any list index) of optional objects drawn behind a "Set …" checkbox: unchecked, the object is not sent (its fields' defaults would otherwise make a half-filled object) */
  optionalObjects?: string[];
  /** fields folded, within their object, under an "Advanced settings" <details> (opened when one of them has an error) */
  advanced?: (path: string, schema: JsonSchema, required: boolean) => boolean;
}
export type Built = { el: HTMLElement; read: () => unknown };

const HIDDEN = new Set(['version', 'createdAt', 'updatedAt', 'previousKeys', 'clientSecretHash', 'publicJwk']);
/** String lists edited one input per item: URIs are long, and an error names the item it concerns. */
const ITEM_PER_INPUT = /(Uris|Urls)$/;

/** A label inside a sentence ("Set TLS", "Add redirect URI"): lower-cased first letter, acronyms kept. */
function inSentence(label: string): string {
  return /^[A-Z0-9]{2,}\b/.test(label) ? label : label.charAt(0).toLowerCase() + label.slice(1);
}

export function humanize(key: unknown) {
  return String(key)
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[-_]/g, ' ')
    .replace(/^./, (c) => c.toUpperCase())
    .replace(/\b(Uri|Url)(s?)\b/gi, (_, word, plural) => `${word.toUpperCase()}${plural}`);
}

function kindOf(schema?: JsonSchema, key: (string | null) | undefined = null): string {
  if (!schema) return 'json';
  if (schema.anyOf) {
    const variants = schema.anyOf;
    if (variants.every((v) => v.type === 'object' && v.properties?.kind?.const !== undefined)) return 'kinded';
    if (variants.every((v) => v.const !== undefined)) return 'enum';
    const nonNull = variants.filter((v) => v.type !== 'null');
    if (nonNull.length === 1 && variants.length === 2) return 'nullable';
    return 'json';
  }
  if (schema.type === 'object' && schema.properties) return 'object';
  if (schema.type === 'object' && schema.patternProperties) {
    const inner = Object.values(schema.patternProperties)[0];
    return inner?.type === 'string' ? 'record' : 'json';
  }
  if (schema.type === 'array') {
    const items = schema.items ?? {};
    if (items.anyOf?.every((v) => v.const !== undefined)) return 'enum-set';
    if (items.type === 'string') return ITEM_PER_INPUT.test(key ?? '') ? 'string-list' : 'lines';
    if (items.type === 'object' && items.properties) return 'list';
    return 'json';
  }
  if ((['string', 'integer', 'number', 'boolean'] as (string | undefined)[]).includes(schema.type))
    return schema.type as string;
  return 'json';
}

/** Where include/exclude patterns apply: the same path as access rules (see docs/architecture.md). */
export const PATH_FILTER_HINT =
  'Paths relative to the route, as the upstream receives them: `/cart(/.*)?` on the domain `shop.example.com/shop` covers `/shop/cart/1`.';

function field(
  path: string,
  label: string,
  description: string | null | undefined,
  control: HTMLElement,
  { inline = false }: { inline?: boolean } | undefined = {},
) {
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true });
  const id = control.id || (control.id = nextId('f'));
  const wrapper = h(
    'div',
    { class: `field${inline ? ' inline' : ''}`, dataset: { path } },
    inline ? [control, h('label', { for: id }, label)] : [h('label', { for: id }, label), control],
    description ? h('p', { class: 'hint', id: `${id}-hint` }, description) : null,
    error,
  );
  if (description) control.setAttribute('aria-describedby', `${id}-hint`);
  return wrapper;
}

/** Build a form for `schema` with `value`; `options.catalog` (plugins) and `options.metadataPickers` enable the special editors. */
export function schemaForm(schema: JsonSchema, value: unknown, formOptions: FormOptions | undefined = {}) {
  const options = { ...formOptions, root: value };
  const root = build(schema, value, '', null, true, options);
  const element = h(
    'div',
    { class: 'schema-form' },
    h('div', { class: 'form-errors', role: 'alert', hidden: true }),
    root.el,
  );
  const conditional = Object.entries(options.visibleWhen ?? {});
  if (conditional.length) {
    const update = () => {
      // Read with every conditional field shown, so a predicate never depends on its own hiding.
      for (const [path] of conditional) {
        const f = fieldAt(element, path);
        if (f) f.hidden = false;
      }
      const current = root.read() as JsonObject;
      for (const [path, visible] of conditional) {
        const f = fieldAt(element, path);
        if (f) f.hidden = !visible(current);
      }
    };
    element.addEventListener('change', update);
    update();
  }
  return {
    element,
    read: () => root.read(),
    showErrors(details: ErrorDetail[] | undefined = [], message: string | undefined) {
      clearErrors(element);
      const general = [];
      for (const detail of details) {
        const target = closestField(element, detail.path);
        if (target) {
          const slot = target.querySelector(':scope > .field-error') as HTMLElement;
          slot.textContent = slot.textContent ? `${slot.textContent} ${detail.message}` : detail.message;
          slot.hidden = false;
          target.classList.add('invalid');
        } else general.push(`${detail.path}: ${detail.message}`);
      }
      const box = element.querySelector('.form-errors') as HTMLElement;
      if (message || general.length) {
        box.replaceChildren(
          h('strong', {}, message ?? 'Please check the form'),
          ...(general.length
            ? [
                h(
                  'ul',
                  {},
                  general.map((g) => h('li', {}, g)),
                ),
              ]
            : []),
        );
        box.hidden = false;
      }
      // A field folded under "Advanced settings" with an error is shown, not left closed.
      for (const invalid of element.querySelectorAll('.invalid')) {
        for (let d = invalid.closest('details'); d; d = d.parentElement?.closest('details') ?? null) d.open = true;
      }
      (element.querySelector('.invalid input, .invalid textarea, .invalid select') as HTMLElement | null)?.focus();
    },
  };
}

function fieldAt(element: HTMLElement, path: string): HTMLElement | null {
  return element.querySelector(`[data-path="${CSS.escape(path)}"]`);
}

function clearErrors(element: HTMLElement) {
  for (const slot of element.querySelectorAll('.field-error') as NodeListOf<HTMLElement>) {
    slot.textContent = '';
    slot.hidden = true;
  }
  for (const f of element.querySelectorAll('.invalid')) f.classList.remove('invalid');
  (element.querySelector('.form-errors') as HTMLElement).hidden = true;
}

/** The field whose path is the longest prefix of `path`, among those with an error slot of their own. */
function closestField(element: HTMLElement, path: string): HTMLElement | null {
  let best: HTMLElement | null = null;
  for (const f of element.querySelectorAll('[data-path]') as NodeListOf<HTMLElement>) {
    const p = f.dataset.path as string;
    if (!f.querySelector(':scope > .field-error')) continue;
    if ((path === p || path.startsWith(`${p}/`)) && (!best || p.length > (best.dataset.path as string).length))
      best = f;
  }
  return best;
}

/** Where a field is drawn and what it is drawn from: the arguments of `build`, with the label worked out. */
type At = {
  schema: JsonSchema;
  value: unknown;
  path: string;
  key: string | null;
  required: boolean;
  options: FormOptions;
  label: string;
  description: string | undefined;
  /**
   * An optional value without a default is sent as absent when left empty: for lists, absent and
   * empty differ (no `grantTypes`: every grant the route enables; `[]`: none).
   */
  absentWhenEmpty: boolean;
};

function build(
  schema: JsonSchema,
  value: unknown,
  path: string,
  key: string | null,
  required: boolean,
  options: FormOptions,
): Built {
  const at: At = {
    schema,
    value,
    path,
    key,
    required,
    options,
    // The schema's title is the label; a name is humanized only where a schema has none
    label: schema.title ?? humanize(key ?? ''),
    description: schema.description,
    absentWhenEmpty: !required && schema.default === undefined,
  };
  const kind = kindOf(schema, key);
  const known = Object.entries(options.choices ?? {}).find(([pattern]) => pathMatches(pattern, path))?.[1];
  // A list of ids whose set is known (routes, tags…) is picked, not typed
  if (known && (kind === 'lines' || kind === 'string-list'))
    return buildEnumSet(
      withValues(known, value),
      (value as unknown[] | undefined) ?? [],
      path,
      at.label,
      at.description,
      at.absentWhenEmpty,
    );
  return buildKind(kind, at);
}

/** The field for a schema of this kind (see `kindOf`). */
function buildKind(kind: string, at: At): Built {
  const { schema, value, path, key, required, options, label, description, absentWhenEmpty } = at;
  switch (kind) {
    case 'object':
      if (!required && (options.optionalObjects ?? []).some((pattern) => pathMatches(pattern, path)))
        return buildOptionalObject(schema, value as JsonObject | undefined, path, key, label, options);
      return buildObject(schema, (value ?? {}) as JsonObject, path, key, options);
    case 'kinded':
      return buildKinded(schema, value as JsonObject | undefined, path, label, description, absentWhenEmpty, options);
    case 'enum':
      return buildEnum(at);
    case 'nullable':
      return buildNullable(at);
    case 'string':
      // Only the schema says what is secret: `writeOnly` (kept by the server, never shown back) or a
      // masked `format: 'password'`
      if (schema.writeOnly) return buildWriteOnly(schema, value, path, label, description, required, options);
      return buildString(at);
    case 'integer':
    case 'number':
      return buildNumber(at);
    case 'boolean': {
      const input = h('input', { type: 'checkbox', checked: value ?? schema.default ?? false });
      return { el: field(path, label, description, input, { inline: true }), read: () => input.checked };
    }
    case 'lines':
      return buildLines(at);
    case 'enum-set':
      return buildEnumSet(
        ((schema.items?.anyOf ?? []) as JsonSchema[]).map((v) => ({
          value: v.const as string,
          label: v.const as string,
        })),
        (value as unknown[] | undefined) ?? [],
        path,
        label,
        description,
        absentWhenEmpty,
      );
    case 'string-list':
      return buildStringList((value as string[] | undefined) ?? [], path, label, description, absentWhenEmpty);
    case 'record':
      return buildRecord(schema, (value ?? {}) as JsonObject, path, label, description, options);
    case 'list':
      return buildList(schema, (value ?? []) as unknown[], path, label, description, options);
    default:
      return buildJson(at);
  }
}

function buildEnum({ schema, value, path, required, label, description }: At): Built {
  const select = h(
    'select',
    {},
    required || schema.default !== undefined ? null : h('option', { value: '' }, '—'),
    (schema.anyOf as JsonSchema[]).map((v) =>
      h('option', { value: v.const, selected: v.const === (value ?? schema.default) }, v.const as string),
    ),
  );
  return { el: field(path, label, description, select), read: () => select.value || undefined };
}

/** A value or null: the non-null variant's field, read as null when left empty. */
function buildNullable({ schema, value, path, key, options }: At): Built {
  const inner = schema.anyOf?.find((v) => v.type !== 'null') as JsonSchema;
  const built = build(
    { ...inner, description: schema.description ?? inner.description },
    value ?? undefined,
    path,
    key,
    false,
    options,
  );
  return {
    el: built.el,
    read: () => {
      const v = built.read();
      return v === undefined ? null : v;
    },
  };
}

function buildString({ schema, value, path, key, required, label, description }: At): Built {
  const secret = schema.format === 'password';
  const multiline = /pem/i.test(key ?? '');
  const shown = (value ?? (secret ? undefined : schema.default)) as string | undefined;
  const input = multiline
    ? h('textarea', { rows: 4, spellcheck: false }, shown ?? '')
    : h('input', {
        type: secret ? 'password' : 'text',
        value: shown ?? '',
        autocomplete: secret ? 'new-password' : 'off',
        spellcheck: false,
      });
  // Empty means "not set": the server applies the default (or reports a missing required value).
  return {
    el: field(path, label, description, input),
    read: () => (input.value === '' ? (required && schema.default === undefined ? '' : undefined) : input.value),
  };
}

function buildNumber({ schema, value, path, label, description }: At): Built {
  const input = h('input', {
    type: 'number',
    value: value ?? schema.default ?? '',
    step: schema.type === 'integer' ? 1 : 'any',
    min: schema.minimum,
    max: schema.maximum,
  });
  return {
    el: field(path, label, description, input),
    read: () => (input.value === '' ? undefined : Number(input.value)),
  };
}

function buildLines({ value, path, label, description, absentWhenEmpty }: At): Built {
  const lines = (value as string[] | undefined) ?? [];
  const area = h('textarea', { rows: Math.min(6, Math.max(2, lines.length + 1)), spellcheck: false }, lines.join('\n'));
  return {
    el: field(path, `${label} (one per line)`, description, area),
    read: () => listValue(area.value.split('\n'), absentWhenEmpty),
  };
}

/** Anything else, as JSON text; what does not parse is sent as text, and the server reports it at this path. */
function buildJson({ value, path, label, description }: At): Built {
  const area = h(
    'textarea',
    { rows: 5, spellcheck: false, class: 'code' },
    value === undefined ? '' : JSON.stringify(value, null, 2),
  );
  return {
    el: field(path, `${label} (JSON)`, description, area),
    read: () => {
      if (area.value.trim() === '') return undefined;
      try {
        return JSON.parse(area.value);
      } catch {
        return area.value;
      } // the server reports the problem at this path
    },
  };
}

function buildObject(
  schema: JsonSchema,
  value: JsonObject,
  path: string,
  key: string | null,
  options: FormOptions,
): Built {
  const properties = schema.properties ?? {};
  if (options.catalog && properties.plugin && properties.config)
    return buildPluginInstance(schema, value, path, options);
  const required = new Set(schema.required ?? []);
  const children: [string, Built][] = [];
  for (const [name, prop] of Object.entries(properties)) {
    if (HIDDEN.has(name) || (options.hide ?? []).includes(`${path}/${name}`)) continue;
    children.push([name, build(prop, value[name], `${path}/${name}`, name, required.has(name), options)]);
  }
  const folded = options.advanced
    ? children.filter(([name]) =>
        options.advanced?.(`${path}/${name}`, properties[name] as JsonSchema, required.has(name)),
      )
    : [];
  const body = children.filter((child) => !folded.includes(child)).map(([, c]) => c.el);
  if (folded.length)
    body.push(
      h(
        'details',
        { class: 'advanced' },
        h('summary', {}, `Advanced settings (${folded.length})`),
        folded.map(([, c]) => c.el),
      ),
    );
  const el = key
    ? h(
        'fieldset',
        { dataset: { path } },
        h('legend', {}, schema.title ?? humanize(key)),
        body,
        h('p', { class: 'field-error', hidden: true }),
      )
    : h('div', { dataset: { path } }, body, h('p', { class: 'field-error', hidden: true }));
  return {
    el,
    read: () => {
      const out: JsonObject = {};
      for (const [name, c] of children) {
        if (c.el.hidden) continue; // hidden by `visibleWhen`: not part of the value
        const v = c.read();
        if (v !== undefined) out[name] = v;
      }
      if (value.version !== undefined && path === '') out.version = value.version;
      return out;
    },
  };
}

/**
 * An optional object behind a "Set …" checkbox: absent until checked, and sent only while checked.
 */
function buildOptionalObject(
  schema: JsonSchema,
  value: JsonObject | undefined,
  path: string,
  key: string | null,
  label: string,
  options: FormOptions,
): Built {
  const inner = buildObject(schema, value ?? {}, path, key, options);
  const toggle = h('input', { type: 'checkbox', checked: value !== undefined, id: nextId('f') });
  const sync = () => {
    inner.el.hidden = !toggle.checked;
  };
  toggle.addEventListener('change', sync);
  sync();
  const el = h(
    'div',
    { class: 'optional-object' },
    h('div', { class: 'field inline' }, toggle, h('label', { for: toggle.id }, `Set ${inSentence(label)}`)),
    inner.el,
  );
  return { el, read: () => (toggle.checked ? inner.read() : undefined) };
}

/**
 * One of several shapes told apart by `kind`. An optional one without a default may be left out
 * (its first choice, "not set"), so the server applies its documented behaviour for absence.
 */
function buildKinded(
  schema: JsonSchema,
  value: JsonObject | undefined,
  path: string,
  label: string,
  description: string | undefined,
  optional: boolean,
  options: FormOptions,
): Built {
  const variants = schema.anyOf as KindedVariant[];
  const select = h(
    'select',
    {},
    optional ? h('option', { value: '', selected: value === undefined }, '— not set (the default applies)') : null,
    variants.map((v) =>
      h(
        'option',
        { value: v.properties.kind.const, selected: v.properties.kind.const === value?.kind },
        v.properties.kind.const,
      ),
    ),
  );
  const holder = h('div', { class: 'variant' });
  let current: Built | null = null;
  const render = () => {
    const variant = variants.find((v) => v.properties.kind.const === select.value);
    if (!variant) {
      current = null;
      holder.replaceChildren();
      return;
    }
    const { kind: _kind, ...rest } = variant.properties;
    current = buildObject(
      { ...variant, properties: rest },
      value?.kind === select.value ? value : {},
      path,
      null,
      options,
    );
    holder.replaceChildren(current.el);
  };
  select.addEventListener('change', render);
  render();
  const el = h(
    'fieldset',
    { dataset: { path } },
    h('legend', {}, label),
    field(`${path}/kind`, 'Kind', description, select),
    holder,
    h('p', { class: 'field-error', role: 'alert', hidden: true }),
  );
  return {
    el,
    read: () => (current ? { kind: select.value, ...(current.read() as JsonObject) } : undefined),
  };
}

/**
 * Trimmed, non-empty items; `undefined` for none when the list is optional without a default.
 */
function listValue(values: string[], absentWhenEmpty: boolean) {
  const items = values.map((s) => s.trim()).filter(Boolean);
  return items.length === 0 && absentWhenEmpty ? undefined : items;
}

/**
 * A list of strings, one input per item (with its own error slot), added and removed by buttons.
 */
function buildStringList(
  value: string[],
  path: string,
  label: string,
  description: string | undefined,
  absentWhenEmpty: boolean,
): Built {
  const singular = label.replace(/s$/, '');
  const inputs: HTMLInputElement[] = [];
  const list = h('ol', { class: 'item-list string-list' });
  const redraw = () => {
    list.replaceChildren(
      ...inputs.map((input, i) =>
        h(
          'li',
          { class: 'item-row' },
          field(`${path}/${i}`, `${singular} ${i + 1}`, null, input),
          h(
            'button',
            {
              type: 'button',
              class: 'small danger',
              'aria-label': `Remove ${singular} ${i + 1}`,
              onclick: () => {
                inputs.splice(i, 1);
                redraw();
              },
            },
            'Remove',
          ),
        ),
      ),
    );
  };
  const add = (text: string) =>
    inputs.push(h('input', { type: 'url', value: text, autocomplete: 'off', spellcheck: false, id: nextId('f') }));
  value.forEach(add);
  redraw();
  const addButton = h(
    'button',
    {
      type: 'button',
      class: 'small',
      onclick: () => {
        add('');
        redraw();
        inputs.at(-1)?.focus();
      },
    },
    `Add ${singular}`,
  );
  const el = h(
    'fieldset',
    { dataset: { path } },
    h('legend', {}, label),
    description ? h('p', { class: 'hint' }, description) : null,
    list,
    addButton,
    h('p', { class: 'field-error', role: 'alert', hidden: true }),
  );
  return {
    el,
    read: () =>
      listValue(
        inputs.map((i) => i.value),
        absentWhenEmpty,
      ),
  };
}

/**
 * A set of allowed values (an array of an enum): one checkbox per value, in the schema's order.
 */
/** The known choices, and any value already held that is not one of them (so a save keeps it). */
function withValues(known: Choice[], value: unknown): Choice[] {
  const held = Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  return [...known, ...held.filter((v) => !known.some((c) => c.value === v)).map((v) => ({ value: v, label: v }))];
}

function buildEnumSet(
  choices: Choice[],
  value: unknown[],
  path: string,
  label: string,
  description: string | undefined,
  absentWhenEmpty: boolean,
): Built {
  const boxes = choices.map((choice) =>
    h('input', { type: 'checkbox', value: choice.value, checked: value.includes(choice.value), id: nextId('f') }),
  );
  const el = h(
    'fieldset',
    { dataset: { path }, class: 'enum-set' },
    h('legend', {}, label),
    description ? h('p', { class: 'hint' }, description) : null,
    h(
      'div',
      { class: 'choices' },
      boxes.map((box, i) => h('span', { class: 'field inline' }, box, h('label', { for: box.id }, choices[i]?.label))),
    ),
    h('p', { class: 'field-error', role: 'alert', hidden: true }),
  );
  return {
    el,
    read: () => {
      const checked = boxes.filter((b) => b.checked).map((b) => b.value);
      return checked.length === 0 && absentWhenEmpty ? undefined : checked;
    },
  };
}

/**
 * A write-only secret. Once stored, the form shows that it is set, never its value (the server
 * holds a digest), and sends back what it read so that saving the form keeps it; a new one is typed.
 */
function buildWriteOnly(
  schema: JsonSchema,
  value: unknown,
  path: string,
  label: string,
  description: string | undefined,
  required: boolean,
  options: FormOptions,
): Built {
  // Reads never carry the secret: a stored entity has one wherever the secret's object was read
  // (`options.stored`, `options.root`). Omitted on save, the server keeps it.
  const stored =
    (typeof value === 'string' && value !== '') || (options.stored === true && parentRead(options.root, path));
  if (stored) {
    const kept = () => (typeof value === 'string' && value !== '' ? value : undefined);
    const replaceable = options.replaceableSecret?.(path) === true;
    const replacement = h('input', {
      type: 'password',
      value: '',
      autocomplete: 'new-password',
      spellcheck: false,
      id: nextId('f'),
    });
    const replacing = h(
      'div',
      { class: 'field', hidden: true },
      h('label', { for: replacement.id }, `New ${inSentence(label)}`),
      replacement,
      h('p', { class: 'hint' }, 'Left empty, the stored one stays.'),
    );
    const replace = replaceable
      ? h(
          'button',
          {
            type: 'button',
            onclick: () => {
              replacing.hidden = false;
              replace?.remove();
              replacement.focus();
            },
          },
          `Replace ${inSentence(label)}`,
        )
      : null;
    const el = h(
      'div',
      { class: 'field', dataset: { path } },
      h('p', { class: 'stored-secret' }, h('strong', {}, `${label}: `), 'set (hidden)'),
      h('div', { class: 'form-actions' }, options.writeOnlyActions?.(path), replace),
      replacing,
      h('p', { class: 'field-error', role: 'alert', hidden: true }),
    );
    return { el, read: () => (replacement.value !== '' ? replacement.value : kept()) };
  }
  const input = h('input', { type: 'text', value: '', autocomplete: 'off', spellcheck: false });
  const hint = `${description ?? ''} Shown only now, while you type it: once saved it is never displayed again.`.trim();
  return {
    el: field(path, label, hint, input),
    read: () => (input.value === '' ? (required && schema.default === undefined ? '' : undefined) : input.value),
  };
}

/** A metadata picker's select, the stored value chosen (kept as a choice when the set does not hold it). */
function metadataSelect(picker: MetadataPicker, value: JsonObject, path: string) {
  const select = h(
    'select',
    {},
    h('option', { value: '' }, picker.none),
    withValues(picker.choices, value[picker.key] === undefined ? [] : [value[picker.key]]).map((c) =>
      h('option', { value: c.value, selected: value[picker.key] === c.value }, c.label),
    ),
  );
  return { select, el: field(`${path}/${picker.key}`, picker.label, picker.hint, select) };
}

function buildRecord(
  _schema: JsonSchema,
  value: JsonObject,
  path: string,
  label: string,
  description: string | undefined,
  options: FormOptions,
): Built {
  const pickers = path === '/metadata' ? (options.metadataPickers ?? []) : [];
  const picked = new Set(pickers.map((p) => p.key));
  const entries = Object.entries(value).filter(([k]) => !picked.has(k));
  const area = h(
    'textarea',
    { rows: Math.max(2, entries.length + 1), spellcheck: false },
    entries.map(([k, v]) => `${k}=${v}`).join('\n'),
  );
  const selects = pickers.map((picker) => ({ picker, ...metadataSelect(picker, value, path) }));
  const parts = [...selects.map((s) => s.el), field(path, `${label} (key=value, one per line)`, description, area)];
  return {
    el: h('div', {}, parts),
    read: () => {
      const out: JsonObject = {};
      for (const line of area.value.split('\n')) {
        const eq = line.indexOf('=');
        if (eq > 0) out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
      }
      for (const { picker, select } of selects) if (select.value) out[picker.key] = select.value;
      return out;
    },
  };
}

/** A list item's buttons: move it up or down, remove it; `changed` redraws the list after. */
function itemActions(items: Built[], i: number, changed: () => void) {
  const moveTo = (to: number) => () => {
    items.splice(to, 0, ...items.splice(i, 1));
    changed();
  };
  const remove = () => {
    items.splice(i, 1);
    changed();
  };
  return h(
    'div',
    { class: 'item-actions' },
    h('button', { type: 'button', class: 'small', disabled: i === 0, onclick: moveTo(i - 1) }, '↑ Up'),
    h('button', { type: 'button', class: 'small', disabled: i === items.length - 1, onclick: moveTo(i + 1) }, '↓ Down'),
    h('button', { type: 'button', class: 'small danger', onclick: remove }, 'Remove'),
  );
}

function buildList(
  schema: JsonSchema,
  value: unknown[],
  path: string,
  label: string,
  description: string | undefined,
  options: FormOptions,
): Built {
  const itemSchema = schema.items as JsonSchema;
  const buildItem = (v: unknown, i: number) => build(itemSchema, v, `${path}/${i}`, null, true, options);
  const items: Built[] = value.map(buildItem);
  const list = h('ol', { class: 'item-list' });
  const redraw = () => {
    list.replaceChildren(
      ...items.map((item, i) => h('li', { class: 'item' }, item.el, itemActions(items, i, rebuild))),
    );
  };
  // Rebuild with the current values so paths (/plugins/0…) match the order sent to the server.
  const rebuild = () => {
    const values = items.map((it) => it.read());
    items.splice(0, items.length, ...values.map(buildItem));
    redraw();
  };
  redraw();
  const addItem = () => {
    items.push(buildItem(options.newItem?.(path) ?? {}, items.length));
    redraw();
  };
  const add = h(
    'button',
    { type: 'button', class: 'small', onclick: addItem },
    `Add ${inSentence(label).replace(/s$/, '')}`,
  );
  const el = h(
    'fieldset',
    { dataset: { path } },
    h('legend', {}, label),
    description ? h('p', { class: 'hint' }, description) : null,
    list,
    add,
    h('p', { class: 'field-error', hidden: true }),
  );
  return { el, read: () => items.map((it) => it.read()) };
}

function buildPluginInstance(_schema: JsonSchema, value: JsonObject, path: string, options: FormOptions): Built {
  const catalog = options.catalog as PluginInfo[];
  const select = h(
    'select',
    {},
    catalog
      .filter((p) => !p.globalOnly || options.global)
      .map((p) => h('option', { value: p.id, selected: p.id === value.plugin }, `${p.name} (${p.id})`)),
  );
  const enabled = h('input', { type: 'checkbox', checked: value.enabled ?? true });
  const includePatterns = value.include as string[] | undefined;
  const include = h('textarea', { rows: 1 }, (includePatterns ?? []).join('\n'));
  const excludePatterns = value.exclude as string[] | undefined;
  const exclude = h('textarea', { rows: 1 }, (excludePatterns ?? []).join('\n'));
  const holder = h('div', {});
  let config: Built;
  const render = () => {
    const plugin = catalog.find((p) => p.id === select.value) as PluginInfo;
    config = build(
      { ...plugin.configSchema, description: plugin.description },
      select.value === value.plugin ? (value.config ?? {}) : {},
      `${path}/config`,
      'config',
      true,
      options,
    );
    holder.replaceChildren(config.el);
  };
  select.addEventListener('change', render);
  render();
  const lines = (area: HTMLTextAreaElement) =>
    area.value
      .split('\n')
      .map((s) => s.trim())
      .filter(Boolean);
  return {
    el: h(
      'div',
      { class: 'plugin-instance', dataset: { path } },
      field(`${path}/plugin`, 'Plugin', null, select),
      field(`${path}/enabled`, 'Enabled', null, enabled, { inline: true }),
      field(`${path}/include`, 'Only on paths (regular expressions, one per line)', PATH_FILTER_HINT, include),
      field(`${path}/exclude`, 'Not on paths (regular expressions, one per line)', null, exclude),
      holder,
    ),
    read: () => ({
      plugin: select.value,
      enabled: enabled.checked,
      include: lines(include),
      exclude: lines(exclude),
      config: config.read() ?? {},
    }),
  };
}

/**
 * Whether a JSON path matches an `optionalObjects` entry, where a `*` segment stands for one list
 * index (so one entry covers the `tls` of every backend target).
 */
/** Whether the object holding the field at `path` was in the value read from the server. */
function parentRead(root: unknown, path: string): boolean {
  let at = root;
  for (const segment of path.split('/').slice(1, -1)) {
    if (typeof at !== 'object' || at === null) return false;
    at = (at as Record<string, unknown>)[segment];
  }
  return typeof at === 'object' && at !== null;
}

function pathMatches(pattern: string, path: string): boolean {
  if (!pattern.includes('*')) return pattern === path;
  const parts = pattern.split('/');
  const segments = path.split('/');
  return (
    parts.length === segments.length &&
    parts.every((part, i) => (part === '*' ? /^\d+$/.test(segments[i] ?? '') : part === segments[i]))
  );
}
