// receipt.js — the refund receipt of a completed refund (approved or declined): the merchant's name and address,
// the card's last four digits only (US FACTA allows no more on a cardholder copy), the EMV application label
// and AID when the refund carries them, and a merchant copy for print. render(state) draws it.
import { responseWords, t, when as formatWhen } from './strings.js';
import { refundAmount } from './progress.js';

const $ = (id) => document.getElementById(id);

export const el = {
  receipt: $('receipt'), title: $('receipt-title'), body: $('receipt-body'), merchant: $('receipt-merchant'),
  copy: $('receipt-copy'), outcome: $('receipt-outcome'), tooLate: $('receipt-too-late'),
  merchantCopy: $('receipt-merchant-copy'), print: $('print-button'), print80: $('print-80mm-button'),
  newRefund: $('new-refund-button'),
};

// EMV tags a receipt shows: 50 Application Label (text), 4F the card's AID; 84 and 9F06 also carry an AID.
const TAG_LABEL = '50';
const TAG_AID = ['4F', '84', '9F06'];

/** The value of an EMV tag of a retrieved card, or "". */
function tag(card, hex) {
  const found = (card?.emvTags ?? []).find((x) => String(x.hex).toUpperCase() === hex);
  return found ? String(found.value ?? '') : '';
}

/** An EMV text value as Payroc sends it (hex of its bytes), as text; plain text passes through. */
export function emvText(value) {
  if (/^(?:[0-9A-Fa-f]{2})+$/.test(value)) {
    const bytes = value.match(/../g).map((h) => parseInt(h, 16));
    if (bytes.every((b) => b >= 0x20 && b < 0x7f)) return String.fromCharCode(...bytes).trim();
  }
  return value;
}

/** The card for a receipt: its type and the last four digits only ("Visa Credit •••• 7062"). */
export function maskedCard(card) {
  const digits = String(card?.cardNumber ?? '').replace(/\D/g, '').slice(-4);
  return [card?.type, digits ? `•••• ${digits}` : ''].filter(Boolean).join(' ');
}

function set(id, text) {
  $(id).textContent = text || '—';
}

/** Whether the state shows a receipt: that of an approved or declined refund. */
export function shows(state) {
  const kind = state.phase === 'done' ? state.outcome?.kind : null;
  return (kind === 'approved' || kind === 'declined') && !!state.outcome.result?.refund;
}

/** Draws the receipt from the state: shown for an approved or declined refund, hidden otherwise. */
export function render(state) {
  const kind = state.outcome?.kind;
  const show = shows(state);
  el.receipt.hidden = !show;
  if (!show) {
    el.merchantCopy.replaceChildren();
    return;
  }
  const result = state.outcome.result;
  const r = result.refund;
  const request = state.refund?.request;
  const approved = kind === 'approved';
  el.receipt.dataset.outcome = kind;
  if (state.refund?.cancelTooLate) el.receipt.dataset.cancel = 'too-late';
  else delete el.receipt.dataset.cancel;

  const merchant = state.lane?.merchant ?? {};
  const name = Object.assign(document.createElement('p'), { className: 'merchant-name', textContent: merchant.name ?? '' });
  const address = Object.assign(document.createElement('p'), { className: 'merchant-address', textContent: merchant.address ?? '' });
  el.merchant.replaceChildren(...[name, address].filter((p) => p.textContent));
  el.merchant.hidden = !merchant.name && !merchant.address;

  el.copy.textContent = t('receipt.customerCopy');
  el.outcome.textContent = t(approved ? 'receipt.approved' : 'receipt.declined');
  el.tooLate.hidden = !state.refund?.cancelTooLate;
  el.tooLate.textContent = state.refund?.cancelTooLate ? t('receipt.tooLate') : '';

  const when = r.order?.dateTime ? new Date(r.order.dateTime) : new Date();
  const entry = r.card?.entryMethod;
  set('receipt-amount', refundAmount(state.refund, result));
  set('receipt-card', maskedCard(r.card));
  set('receipt-entry-method', entry ? t(`entry.${entry}`) : '');
  const label = emvText(tag(r.card, TAG_LABEL));
  const aid = TAG_AID.map((h) => tag(r.card, h)).find(Boolean) ?? '';
  set('receipt-application', label);
  set('receipt-aid', aid.toUpperCase());
  for (const e of el.receipt.querySelectorAll('.emv')) e.hidden = !label && !aid;
  set('receipt-approval-code', approved ? r.transactionResult?.approvalCode : '');
  const said = r.transactionResult?.responseMessage;
  set('receipt-response', [said && responseWords(said), r.transactionResult?.responseCode && `(${r.transactionResult.responseCode})`].filter(Boolean).join(' '));
  set('receipt-refund-id', r.refundId);
  set('receipt-datetime', Number.isNaN(when.getTime()) ? r.order?.dateTime : formatWhen(when));
  set('receipt-order-id', r.order?.orderId);
  set('receipt-operator', r.operator || request?.operator);
  set('receipt-terminal', [r.processingTerminalId, request?.serialNumber && t('receipt.reader', { serial: request.serialNumber })].filter(Boolean).join(' · '));

  // The merchant's copy, printed after the customer's: the same receipt under its own label.
  const copy = el.body.cloneNode(true);
  for (const e of [copy, ...copy.querySelectorAll('[id], [data-testid]')]) {
    e.removeAttribute('id');
    e.removeAttribute('data-testid');
  }
  copy.querySelector('.receipt-copy').textContent = t('receipt.merchantCopy');
  const heading = Object.assign(document.createElement('h2'), { textContent: t('receipt.title') });
  el.merchantCopy.replaceChildren(heading, copy);
  el.merchantCopy.dataset.outcome = kind;
}
