/**
 * The access request form (POST /v1/access-requests): budget or raw, pre-filled from a
 * BUDGET_EXHAUSTED refusal's `details.requestAccess` bodies — which the API accepts as they are —
 * or empty when opened by hand. Raw requests pick `table.column`s, pii ones marked.
 */
import { ApiError, post } from './api.ts';
import { announce, field, h } from './dom.ts';
import { errorBox } from './errors.ts';
import type { AccessRequest, AccessRequestBody, Dataset } from './types.ts';

export interface Prefill {
  readonly budget?: Partial<AccessRequestBody>;
  readonly raw?: Partial<AccessRequestBody>;
  readonly kind: 'budget' | 'raw';
}

/** Read `details.requestAccess` of a BUDGET_EXHAUSTED error, if it has one. */
export function prefillFrom(err: ApiError): Prefill | undefined {
  const ra = err.details.requestAccess as { budget?: Partial<AccessRequestBody>; raw?: Partial<AccessRequestBody> } | undefined;
  if (ra === undefined || typeof ra !== 'object') return undefined;
  return { kind: 'budget', ...(ra.budget === undefined ? {} : { budget: ra.budget }), ...(ra.raw === undefined ? {} : { raw: ra.raw }) };
}

function input(id: string, type: string, value: string | number | undefined, extra: Record<string, string | number | boolean> = {}): HTMLInputElement {
  return h('input', { id, name: id, type, value: value === undefined ? '' : String(value), ...extra });
}

/** Render the form into `host`; `onFiled` runs after a request was created. */
export function accessForm(host: HTMLElement, datasets: readonly Dataset[], prefill: Prefill, onFiled: (r: AccessRequest) => void): void {
  const budget = prefill.budget ?? {};
  const raw = prefill.raw ?? {};
  const datasetName = budget.dataset ?? raw.dataset ?? datasets[0]?.name ?? '';
  const ds = datasets.find((d) => d.name === datasetName);

  const kindBudget = h('input', { type: 'radio', name: 'req-kind', id: 'req-kind-budget', value: 'budget', checked: prefill.kind === 'budget' });
  const kindRaw = h('input', { type: 'radio', name: 'req-kind', id: 'req-kind-raw', value: 'raw', checked: prefill.kind === 'raw' });
  const dataset = input('req-dataset', 'text', datasetName, { required: true, autocomplete: 'off' });
  const epsilon = input('req-epsilon', 'number', budget.epsilon, { step: 'any', min: 0 });
  const delta = input('req-delta', 'number', budget.delta ?? 0, { step: 'any', min: 0 });
  const duration = input('req-duration', 'number', raw.durationMinutes ?? 60, { step: 1, min: 1 });
  const justification = h('textarea', { id: 'req-justification', rows: 3, required: true, minlength: 20 });
  justification.value = (prefill.kind === 'budget' ? budget.justification : raw.justification) ?? '';
  const ticket = input('req-ticket', 'text', budget.ticket ?? raw.ticket, { autocomplete: 'off', placeholder: 'INC-4411' });

  const wanted = new Set(raw.columns ?? []);
  const columnBoxes: HTMLInputElement[] = [];
  const columnList = h('ul', { class: 'checks' });
  for (const [t, table] of Object.entries(ds?.tables ?? {})) {
    for (const [c, col] of Object.entries(table.columns)) {
      const ref = `${t}.${c}`;
      const box = h('input', { type: 'checkbox', id: `req-col-${t}-${c}`, value: ref, checked: wanted.has(ref) });
      columnBoxes.push(box);
      columnList.append(
        h('li', { class: col.sensitivity === 'pii' ? 'pii' : '' }, box, h('label', { for: box.id }, ref, col.sensitivity !== 'none' ? h('span', { class: `badge ${col.sensitivity}` }, col.sensitivity) : null)),
      );
    }
  }
  const budgetFields = h('fieldset', { id: 'req-budget-fields' }, h('legend', {}, 'Budget to add'), field('ε to add', epsilon), field('δ to add', delta));
  const rawFields = h(
    'fieldset',
    { id: 'req-raw-fields' },
    h('legend', {}, 'Columns to see in clear'),
    h('p', { class: 'muted' }, 'Unchecked columns stay masked; columns of sensitivity none are clear anyway.'),
    columnList,
    field('Duration (minutes)', duration),
  );
  const status = h('div', { id: 'req-status' });
  const sync = (): void => {
    budgetFields.hidden = !kindBudget.checked;
    rawFields.hidden = !kindRaw.checked;
    // Switching kind swaps in that kind's pre-filled justification unless the user typed one.
    const other = kindBudget.checked ? raw.justification : budget.justification;
    const mine = kindBudget.checked ? budget.justification : raw.justification;
    if (justification.value === '' || justification.value === other) justification.value = mine ?? '';
  };
  kindBudget.addEventListener('change', sync);
  kindRaw.addEventListener('change', sync);

  const form = h(
    'form',
    { id: 'request-form', 'aria-labelledby': 'request-h' },
    h('fieldset', { class: 'inline' }, h('legend', {}, 'Kind'), kindBudget, h('label', { for: kindBudget.id }, 'More budget'), kindRaw, h('label', { for: kindRaw.id }, 'Raw rows')),
    field('Dataset', dataset),
    budgetFields,
    rawFields,
    field('Justification', justification, 'At least 20 characters and 4 words: what for, and why aggregates are not enough.'),
    field('Ticket (optional)', ticket),
    h('button', { type: 'submit', id: 'req-submit' }, 'File request'),
    status,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const body: AccessRequestBody = { kind: kindBudget.checked ? 'budget' : 'raw', dataset: dataset.value.trim(), justification: justification.value };
    if (ticket.value.trim() !== '') body.ticket = ticket.value.trim();
    if (body.kind === 'budget') {
      body.epsilon = Number(epsilon.value);
      body.delta = delta.value === '' ? 0 : Number(delta.value);
    } else {
      body.columns = columnBoxes.filter((b) => b.checked).map((b) => b.value);
      body.durationMinutes = Number(duration.value);
    }
    status.replaceChildren(h('p', { class: 'muted' }, 'Filing…'));
    post<AccessRequest>('/v1/access-requests', body).then(
      (r) => {
        const msg = `Request ${r.id} filed: ${r.status}${r.status === 'pending' ? `, needs ${r.requiredApprovals} approval(s)` : ''}.`;
        status.replaceChildren(h('p', { class: 'ok', role: 'status' }, msg));
        announce(msg);
        onFiled(r);
      },
      (err: unknown) => status.replaceChildren(errorBox(err)),
    );
  });
  host.replaceChildren(form);
  sync();
}
