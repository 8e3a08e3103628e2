// form.js — the refund form: card reader, amount (with its live preview, suggestions for ambiguous input and
// the confirmation step), order, description, operator. The fields' values live in the state (the amount
// parsed once, as typed); the patches below change them, render(state) draws them, and readForm checks the
// state and builds the request.
import { currencyDigits, formatMinor, minorToDecimal, parseAmount } from './amount.js';
import { locale, t } from './strings.js';
import { RUNNING } from './state.js';

const $ = (id) => document.getElementById(id);

export const el = {
  form: $('refund-form'), fields: $('fields'), device: $('device'), amount: $('amount'), currency: $('currency'),
  preview: $('amount-preview'), hint: $('amount-hint'), suggest: $('amount-suggest'),
  suggestA: $('amount-suggest-a'), suggestB: $('amount-suggest-b'),
  orderId: $('order-id'), newOrderId: $('new-order-id'), description: $('description'), operator: $('operator'),
  refund: $('refund-button'), confirm: $('confirm'), confirmTitle: $('confirm-title'), confirmAmount: $('confirm-amount'),
  confirmText: $('confirm-text'), confirmButton: $('confirm-button'), confirmBack: $('confirm-back'),
  duplicate: $('duplicate'), duplicateAmount: $('duplicate-amount'), duplicateText: $('duplicate-text'),
  duplicateButton: $('duplicate-button'), duplicateBack: $('duplicate-back'),
};

/** Form fields by name → element id (the id of its error line is id + "-error"). */
export const FIELDS = { device: 'device', amount: 'amount', orderId: 'order-id', description: 'description', operator: 'operator' };

/** A new order number: ORDER-yymmdd-hhmmss-xx. */
export function newOrderId() {
  const d = new Date();
  const p = (n) => String(n).padStart(2, '0');
  const rand = crypto.getRandomValues(new Uint8Array(1))[0].toString(36).toUpperCase().padStart(2, '0');
  return `ORDER-${String(d.getFullYear()).slice(2)}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}-${rand}`;
}

/**
 * The state patch of a new order number: the default description follows it, unless the cashier wrote one
 * (it is then kept across orders and languages).
 */
export function orderPatch(state, id) {
  const f = { ...state.form, orderId: id };
  if (!f.descriptionEdited) {
    f.description = t('form.descriptionDefault', { orderId: id });
    f.descriptionFor = id;
  }
  return { form: f };
}

/** The state patch of a field the cashier changed (device, orderId, description, operator) to value. */
export function fieldPatch(state, field, value) {
  const f = { ...state.form, [field]: value };
  if (field === 'description') f.descriptionEdited = value.trim() !== '';
  return { form: f };
}

/** The default description again, in the current language (when the cashier did not write one). */
export function relabelPatch(state) {
  const f = state.form;
  if (f.descriptionEdited || !f.descriptionFor || f.orderId !== f.descriptionFor) return {};
  return { form: { ...f, description: t('form.descriptionDefault', { orderId: f.descriptionFor }) } };
}

/** The card reader to choose at first: the last one used when the lane still has it, else the first. */
export function firstDevice(lane, lastSerial) {
  const devices = lane?.devices ?? [];
  return (devices.find((d) => d.serialNumber === lastSerial) ?? devices[0])?.serialNumber ?? '';
}

/** The amount field's state for text: the text and what it means in the lane's currency, parsed once. */
export function amountOf(text, lane) {
  return { text, parsed: parseAmount(text, lane?.currency ?? 'USD') };
}

/** The label of a card reader of the lane ("Front counter (1850010868)"), or its serial. */
export function deviceLabel(serial) {
  const o = [...el.device.options].find((x) => x.value === serial);
  return o?.dataset.label ?? serial ?? '';
}

/** The formatted amount of a minor amount in the lane's currency and the page's language. */
export function money(minor, currency) {
  return formatMinor(minor, currency, locale());
}

/**
 * What keeps the typed amount from being sent ({ key, params } of its sentence), or null when it can be:
 * nothing typed, text that is no amount, an amount that could mean two, or over the most this till may refund.
 */
export function amountProblem(state) {
  const currency = state.lane?.currency ?? 'USD';
  const amount = state.amount.parsed ?? parseAmount('', currency);
  if (amount.error) return { key: `amount.${amount.error}`, params: amount.params };
  if (amount.ambiguous) {
    const [a, b] = amount.ambiguous.map((x) => money(x.minor, currency)); // as the suggestion buttons say it
    return { key: 'amount.ambiguous', params: { a, b } };
  }
  const max = state.lane?.maxAmount;
  if (max && amount.minor > BigInt(max)) return { key: 'amount.overMax', params: { max: money(max, currency) } };
  return null;
}

/**
 * Checks the form. Returns { request, minor } or { errors } (field → { key, params }) with the first field
 * at fault first.
 */
export function readForm(state) {
  const errors = {};
  const { lane, form: f } = state;
  const currency = lane?.currency ?? 'USD';
  const device = (lane?.devices ?? []).find((d) => d.serialNumber === f.device);
  if (!device) errors.device = { key: (lane?.devices?.length ?? 0) === 0 ? 'field.deviceNone' : 'field.device' };
  const amount = state.amount.parsed ?? parseAmount('', currency);
  const problem = amountProblem(state);
  if (problem) errors.amount = problem;
  const orderId = f.orderId.trim();
  if (!orderId) errors.orderId = { key: 'field.orderId' };
  const description = f.description.trim();
  if (!description) errors.description = { key: 'field.description' };
  if (Object.keys(errors).length) return { errors };
  const request = {
    serialNumber: device.serialNumber,
    processingTerminalId: device.processingTerminalId,
    order: { orderId, description, amount: Number(amount.minor), currency },
  };
  const operator = f.operator.trim();
  if (operator) request.operator = operator;
  return { request, minor: amount.minor };
}

/** The focus request for the first field with an error, or null. */
export function firstError(errors) {
  const first = Object.keys(FIELDS).find((f) => errors[f]);
  return first ? { id: FIELDS[first] } : null;
}

const EDITABLE = new Set(['idle', 'done', 'error', 'watching']);

let optionsFor = null; // the lane whose card readers the device options are

// renderDevices draws the lane's card readers as options (once per lane), the chosen one, and the busy ones.
function renderDevices(state) {
  if (state.lane !== optionsFor) {
    optionsFor = state.lane;
    el.device.replaceChildren();
    for (const d of state.lane?.devices ?? []) {
      const o = document.createElement('option');
      o.value = d.serialNumber;
      o.dataset.terminal = d.processingTerminalId;
      o.dataset.label = d.label ? `${d.label} (${d.serialNumber})` : d.serialNumber;
      o.textContent = o.dataset.label;
      el.device.append(o);
    }
  }
  if (state.form.device && el.device.value !== state.form.device) el.device.value = state.form.device;
  for (const o of el.device.options) {
    const busy = state.lockedSerials.includes(o.value);
    o.disabled = busy;
    o.textContent = busy ? t('form.deviceBusy', { label: o.dataset.label }) : o.dataset.label;
  }
}

// renderValues writes the fields' values from the state, only where they differ (as after typing, they do not).
function renderValues(state) {
  const f = state.form;
  for (const [e, value] of [[el.amount, state.amount.text], [el.orderId, f.orderId], [el.description, f.description],
    [el.operator, f.operator]]) {
    if (e.value !== value) e.value = value;
  }
}

/** Draws the form from the state. */
export function render(state) {
  const lane = state.lane;
  const currency = lane?.currency ?? '';
  const editable = EDITABLE.has(state.phase) && !!lane;
  el.fields.disabled = !editable;
  renderDevices(state);
  renderValues(state);
  el.currency.textContent = currency;

  // The live preview: what the typed text means, in the lane's currency, or what keeps it from being sent.
  const parsed = state.amount.parsed;
  const problem = amountProblem(state);
  const typedSomething = state.amount.text.trim() !== '';
  el.suggest.hidden = !(editable && parsed?.ambiguous);
  el.preview.dataset.kind = parsed?.ambiguous ? 'ask' : problem && typedSomething ? 'problem' : parsed?.minor != null ? 'amount' : 'hint';
  if (el.preview.dataset.kind === 'problem') {
    el.preview.textContent = t(problem.key, problem.params);
  } else if (parsed?.minor != null) {
    el.preview.textContent = t('form.preview', { amount: money(parsed.minor, currency) });
  } else if (parsed?.ambiguous) {
    const [a, b] = parsed.ambiguous.map((x) => money(x.minor, currency));
    el.preview.textContent = t('form.suggest', { a, b });
    el.suggestA.textContent = a;
    el.suggestB.textContent = b;
  } else {
    el.preview.textContent = state.amount.text.trim() === '' && lane ? t('form.previewEmpty') : '';
  }
  if (lane) {
    const digits = currencyDigits(currency);
    const frac = '5'.padEnd(digits, '0');
    const example = digits === 0 ? '1250' : `12.${frac}, 12,${frac}`;
    el.hint.textContent = lane.maxAmount
      ? t('form.hintMax', { example, max: money(lane.maxAmount, currency) })
      : t('form.hint', { example });
  }

  for (const [field, id] of Object.entries(FIELDS)) {
    const e = state.fieldErrors[field];
    const text = e ? (e.text ?? t(e.key, e.params)) : '';
    $(`${id}-error`).textContent = text;
    if (text || (field === 'amount' && problem && typedSomething)) $(id).setAttribute('aria-invalid', 'true');
    else $(id).removeAttribute('aria-invalid');
  }

  const running = RUNNING.has(state.phase);
  el.refund.hidden = state.phase === 'confirming' || state.phase === 'duplicate';
  // Refund waits while what was typed cannot be sent: nothing may look ready to send money that will not go.
  // (With nothing typed it stays enabled, and pressing it says to enter the amount.)
  el.refund.disabled = !editable || (!!problem && typedSomething);
  el.refund.textContent = running ? t('form.running')
    : parsed?.minor != null && !problem ? t('form.refundAmount', { amount: money(parsed.minor, currency) }) : t('form.refund');

  renderConfirm(state);
  renderDuplicate(state);
}

// renderDuplicate draws the question before the same refund again: a modal dialog, as the confirmation.
function renderDuplicate(state) {
  const asking = state.phase === 'duplicate';
  if (asking && !el.duplicate.open) el.duplicate.showModal();
  if (!asking && el.duplicate.open) el.duplicate.close();
  if (!asking || !state.refund || !state.duplicateOf) return;
  el.duplicate.dataset.openedAt = String(state.confirmOpenedAt);
  const r = state.refund.request;
  const d = state.duplicateOf;
  const amount = money(r.order.amount, r.order.currency);
  const time = new Date(d.at).toLocaleTimeString(locale(), { hour: 'numeric', minute: '2-digit' });
  el.duplicateAmount.textContent = amount;
  el.duplicateText.textContent = t(d.last4 ? 'duplicate.text' : 'duplicate.textNoCard', { amount, last4: d.last4, time });
  el.duplicateButton.textContent = t('duplicate.button', { amount });
}

// renderConfirm draws the confirmation, a modal dialog: in view on any screen, the form behind it inert.
function renderConfirm(state) {
  const confirming = state.phase === 'confirming';
  if (confirming && !el.confirm.open) el.confirm.showModal();
  if (!confirming && el.confirm.open) el.confirm.close();
  if (confirming) el.confirm.dataset.openedAt = String(state.confirmOpenedAt);
  if (confirming && state.refund) {
    const r = state.refund.request;
    const amount = money(r.order.amount, r.order.currency);
    el.confirmAmount.textContent = amount;
    el.confirmText.textContent = t('confirm.text', { device: deviceLabel(r.serialNumber), orderId: r.order.orderId });
    el.confirmButton.textContent = t('confirm.button', { amount });
  }
}

/** The state patch that shows a refund's details in the (locked) form, as when it is taken up after a reload. */
export function showPatch(state, request) {
  const o = request?.order ?? {};
  const known = (state.lane?.devices ?? []).some((d) => d.serialNumber === request?.serialNumber);
  return {
    form: {
      ...state.form, device: known ? request.serialNumber : state.form.device,
      orderId: o.orderId ?? '', description: o.description ?? '', operator: request?.operator ?? '',
    },
    amount: amountOf(o.amount != null ? minorToDecimal(o.amount, o.currency) : '', state.lane),
  };
}
