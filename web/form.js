// form.js — the refund form: card reader, amount (with its live preview, suggestions for ambiguous input and
// the confirmation step), order, description, operator. render(state) draws it; readForm checks it and
// builds the request.
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

let descriptionEdited = false;
let descriptionFor = '';

/** Sets the order number (and the default description, unless the cashier wrote one). */
export function setOrderId(id) {
  el.orderId.value = id;
  if (!descriptionEdited) {
    descriptionFor = id;
    el.description.value = t('form.descriptionDefault', { orderId: id });
  }
}

/** Notes that the cashier edited the description (it is then kept across orders and languages). */
export function descriptionTyped() {
  descriptionEdited = el.description.value.trim() !== '';
}

/** The lane's card readers as options, the last one used chosen again. */
export function fillDevices(lane, lastSerial) {
  el.device.replaceChildren();
  for (const d of lane.devices ?? []) {
    const o = document.createElement('option');
    o.value = d.serialNumber;
    o.dataset.terminal = d.processingTerminalId;
    o.dataset.label = d.label ? `${d.label} (${d.serialNumber})` : d.serialNumber;
    o.textContent = o.dataset.label;
    el.device.append(o);
  }
  if (lastSerial && [...el.device.options].some((o) => o.value === lastSerial)) el.device.value = lastSerial;
}

/** The label of a card reader of the lane ("Front counter (1850010868)"), or its serial. */
export function deviceLabel(serial) {
  const o = [...el.device.options].find((x) => x.value === serial);
  return o?.dataset.label ?? serial ?? '';
}

/** Reads the amount field against the lane's currency. */
export function parseTyped(state) {
  return parseAmount(el.amount.value, state.lane?.currency ?? 'USD');
}

/** The formatted amount of a minor amount in the lane's currency and the page's language. */
export function money(minor, currency) {
  return formatMinor(minor, currency, locale());
}

/**
 * Checks the form. Returns { request, minor } or { errors } (field → { key, params }) with the first field
 * at fault first.
 */
export function readForm(state) {
  const errors = {};
  const lane = state.lane;
  const currency = lane?.currency ?? 'USD';
  const opt = el.device.selectedOptions[0];
  if (!opt) errors.device = { key: (lane?.devices?.length ?? 0) === 0 ? 'field.deviceNone' : 'field.device' };
  const amount = parseAmount(el.amount.value, currency);
  if (amount.error) errors.amount = { key: `amount.${amount.error}`, params: amount.params };
  else if (amount.ambiguous) {
    const [a, b] = amount.ambiguous.map((x) => money(x.minor, currency)); // as the suggestion buttons say it
    errors.amount = { key: 'amount.ambiguous', params: { a, b } };
  } else if (lane?.maxAmount && amount.minor > BigInt(lane.maxAmount)) {
    errors.amount = { key: 'amount.overMax', params: { max: money(lane.maxAmount, currency) } };
  }
  const orderId = el.orderId.value.trim();
  if (!orderId) errors.orderId = { key: 'field.orderId' };
  const description = el.description.value.trim();
  if (!description) errors.description = { key: 'field.description' };
  if (Object.keys(errors).length) return { errors };
  const request = {
    serialNumber: opt.value,
    processingTerminalId: opt.dataset.terminal,
    order: { orderId, description, amount: Number(amount.minor), currency },
  };
  const operator = el.operator.value.trim();
  if (operator) request.operator = operator;
  return { request, minor: amount.minor };
}

/** Focuses the first field with an error. */
export function focusFirstError(errors) {
  const first = Object.keys(FIELDS).find((f) => errors[f]);
  if (first) $(FIELDS[first]).focus();
}

const EDITABLE = new Set(['idle', 'done', 'error', 'watching']);

/** Draws the form from the state. */
export function render(state) {
  const lane = state.lane;
  const currency = lane?.currency ?? '';
  const editable = EDITABLE.has(state.phase) && !!lane;
  el.fields.disabled = !editable;

  for (const o of el.device.options) {
    const busy = state.lockedSerials.includes(o.value);
    o.disabled = busy;
    o.textContent = busy ? t('form.deviceBusy', { label: o.dataset.label }) : o.dataset.label;
  }
  el.currency.textContent = currency;

  // The live preview: what the typed text means, in the lane's currency.
  const parsed = state.amount.parsed;
  el.suggest.hidden = !(editable && parsed?.ambiguous);
  el.preview.dataset.kind = parsed?.minor != null ? 'amount' : parsed?.ambiguous ? 'ask' : 'hint';
  if (parsed?.minor != null) {
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
    if (text) $(id).setAttribute('aria-invalid', 'true');
    else $(id).removeAttribute('aria-invalid');
  }

  const running = RUNNING.has(state.phase);
  el.refund.hidden = state.phase === 'confirming';
  el.refund.disabled = !editable;
  el.refund.textContent = running ? t('form.running')
    : parsed?.minor != null ? t('form.refundAmount', { amount: money(parsed.minor, currency) }) : t('form.refund');

  // The confirmation is a modal dialog: in view on any screen, the form behind it inert.
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

/** Shows a refund's details in the (locked) form, as when it is taken up after a reload. */
export function show(request) {
  const o = request?.order ?? {};
  if ([...el.device.options].some((x) => x.value === request?.serialNumber)) el.device.value = request.serialNumber;
  el.amount.value = o.amount != null ? minorToDecimal(o.amount, o.currency) : '';
  el.orderId.value = o.orderId ?? '';
  el.description.value = o.description ?? '';
  el.operator.value = request?.operator ?? '';
}

/** Re-writes the default description in the current language (when the cashier did not write one). */
export function relabel() {
  if (!descriptionEdited && descriptionFor && el.orderId.value === descriptionFor) {
    el.description.value = t('form.descriptionDefault', { orderId: descriptionFor });
  }
}
