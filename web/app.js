// app.js — the POS refund page: picks a card reader from the lane, turns the typed amount into minor units
// exactly, runs the refund through payroc.js and shows its progress, the receipt, and errors a cashier can
// act on. See the comment at the top of index.html for the lane token and the test hooks.
import { load, PayrocError } from './payroc.js';
import { currencyDigits, formatMinor, parseAmount } from './amount.js';

const $ = (id) => document.getElementById(id);
const el = {
  laneInfo: $('lane-info'), loadError: $('load-error'), storageWarning: $('storage-warning'),
  banner: $('resume-banner'), bannerText: $('resume-text'), resume: $('resume-button'), forget: $('forget-button'),
  form: $('refund-form'), fields: $('fields'), device: $('device'), amount: $('amount'), currency: $('currency'),
  amountHint: $('amount-hint'), orderId: $('order-id'), newOrderId: $('new-order-id'), description: $('description'),
  operator: $('operator'), refund: $('refund-button'),
  progressTitle: $('progress-title'), status: $('status'), error: $('error'), errorMessage: $('error-message'),
  errorAction: $('error-action'), cancel: $('cancel-button'),
  steps: { sent: $('step-sent'), card: $('step-card'), result: $('step-result') },
  receipt: $('receipt'), receiptTitle: $('receipt-title'), print: $('print-button'), newRefund: $('new-refund-button'),
};

const baseURL = location.origin;
const TOKEN_KEY = 'pos.laneToken'; // sessionStorage: survives a reload of this tab only
const OPERATOR_KEY = 'pos.operator';
const DEVICE_KEY = 'pos.device';

let payroc = null; // the loaded module
let lane = null; // GET /lane: devices, maxAmount, currency, expiresAt
let running = null; // the refund in progress: { id, key, status, canceling }
let shownPending = null; // the pending refund the banner offers

// ---------------------------------------------------------------- lane token

function tokenFromAddress() {
  const hash = new URLSearchParams(location.hash.slice(1));
  const query = new URLSearchParams(location.search);
  const t = hash.get('token') || query.get('token');
  if (t) {
    hash.delete('token');
    query.delete('token');
    const q = query.toString();
    const h = hash.toString();
    history.replaceState(null, '', location.pathname + (q ? `?${q}` : '') + (h ? `#${h}` : ''));
  }
  return t;
}

function storeToken(t) {
  try { sessionStorage.setItem(TOKEN_KEY, t); } catch { /* private mode: the token lasts as long as the page */ }
  return t;
}

async function devToken() {
  const res = await fetch(`${baseURL}/dev/token`, { cache: 'no-store', credentials: 'omit' });
  if (!res.ok) {
    throw new PayrocError('lane-token-missing', 'This till has no lane token (open the link your manager gave you)', { status: res.status });
  }
  return (await res.json()).token;
}

// newToken gets a fresh lane token: the merchant's hook, else the simulator's /dev/token.
async function newToken() {
  if (typeof globalThis.payrocGetLaneToken === 'function') return storeToken(await globalThis.payrocGetLaneToken());
  return storeToken(await devToken());
}

async function firstToken() {
  const fromAddress = tokenFromAddress();
  if (fromAddress) return storeToken(fromAddress);
  try {
    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) return saved;
  } catch { /* no sessionStorage */ }
  return newToken();
}

let token = null;

async function fetchLane() {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${baseURL}/lane`, { headers: { Authorization: `Bearer ${token}` }, cache: 'no-store', credentials: 'omit' });
    if (res.ok) return res.json();
    const problem = await res.json().catch(() => null);
    const code = problem?.type?.split('#').pop() || `http-${res.status}`;
    if (res.status === 401 && attempt === 0) {
      try {
        token = await newToken(); // expired (or a stale saved token): get a new one once
        continue;
      } catch { /* fall through to the error */ }
    }
    throw new PayrocError(code, problem?.detail || `GET /lane answered ${res.status}`, { status: res.status, problem });
  }
}

// ---------------------------------------------------------------- form

function newOrderId() {
  const d = new Date();
  const p = (n) => String(n).padStart(2, '0');
  const rand = crypto.getRandomValues(new Uint8Array(1))[0].toString(36).toUpperCase().padStart(2, '0');
  return `ORDER-${String(d.getFullYear()).slice(2)}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}-${rand}`;
}

let descriptionEdited = false;
function setOrderId(id) {
  el.orderId.value = id;
  if (!descriptionEdited) el.description.value = `Refund for order ${id}`;
}

function fillLane() {
  el.device.replaceChildren();
  for (const d of lane.devices ?? []) {
    const o = document.createElement('option');
    o.value = d.serialNumber;
    o.textContent = d.label ? `${d.label} (${d.serialNumber})` : d.serialNumber;
    o.dataset.terminal = d.processingTerminalId;
    el.device.append(o);
  }
  try {
    const last = localStorage.getItem(DEVICE_KEY);
    if (last && [...el.device.options].some((o) => o.value === last)) el.device.value = last;
  } catch { /* ignore */ }
  el.currency.replaceChildren();
  const o = document.createElement('option');
  o.value = lane.currency;
  o.textContent = lane.currency;
  el.currency.append(o);
  updateAmountHint();
  const until = lane.expiresAt ? new Date(lane.expiresAt) : null;
  const n = lane.devices?.length ?? 0;
  el.laneInfo.textContent = `${n} card reader${n === 1 ? '' : 's'}` +
    (until && !Number.isNaN(until.getTime()) ? ` · session until ${until.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}` : '');
  if (n === 0) fieldError('device', 'This till may not use any card reader. Ask a manager.');
}

function updateAmountHint() {
  const cur = el.currency.value || 'USD';
  const digits = currencyDigits(cur);
  const frac = '5'.padEnd(digits, '0');
  const example = digits === 0 ? '1250' : `12.${frac} or 12,${frac}`;
  const max = lane?.maxAmount ? ` Up to ${formatMinor(lane.maxAmount, cur)}.` : '';
  el.amountHint.textContent = `For example ${example}.${max}`;
}

const fieldIds = { device: 'device', amount: 'amount', orderId: 'order-id', description: 'description', operator: 'operator' };

function fieldError(field, message) {
  const input = $(fieldIds[field]);
  const out = $(`${fieldIds[field]}-error`);
  out.textContent = message;
  if (message) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

function clearFieldErrors() {
  for (const f of Object.keys(fieldIds)) fieldError(f, '');
}

// readForm checks the form and builds the request, or marks the fields at fault and returns null.
function readForm() {
  clearFieldErrors();
  const bad = [];
  const opt = el.device.selectedOptions[0];
  if (!opt) bad.push(['device', 'Choose the card reader the customer will use.']);
  const currency = el.currency.value;
  const amount = parseAmount(el.amount.value, currency);
  if (amount.error) bad.push(['amount', amount.error]);
  else if (lane?.maxAmount && amount.minor > BigInt(lane.maxAmount)) {
    bad.push(['amount', `The most this till may refund is ${formatMinor(lane.maxAmount, currency)}. Ask a manager for larger refunds.`]);
  }
  const orderId = el.orderId.value.trim();
  if (!orderId) bad.push(['orderId', 'Enter the order number (or press New number).']);
  const description = el.description.value.trim();
  if (!description) bad.push(['description', 'Enter a short description, for example the reason for the refund.']);
  const operator = el.operator.value.trim();
  if (bad.length) {
    for (const [f, m] of bad) fieldError(f, m);
    $(fieldIds[bad[0][0]]).focus();
    return null;
  }
  const request = {
    serialNumber: opt.value,
    processingTerminalId: opt.dataset.terminal,
    order: { orderId, description, amount: Number(amount.minor), currency },
  };
  if (operator) request.operator = operator;
  return request;
}

// ---------------------------------------------------------------- progress and status

function setStep(name, state) { el.steps[name].dataset.state = state; }

function resetTimeline() { for (const name of Object.keys(el.steps)) setStep(name, 'todo'); el.steps.result.textContent = 'Result'; }

function setStatus(status, text) {
  el.status.dataset.status = status;
  el.status.textContent = text;
}

function setBusy(busy) {
  el.fields.disabled = busy;
  el.refund.disabled = busy || !payroc;
  el.refund.textContent = busy ? 'Refund running…' : 'Refund';
  el.resume.disabled = busy;
  el.forget.disabled = busy;
  el.newRefund.disabled = busy;
}

function updateCancel() {
  el.cancel.disabled = !(running && running.id && running.status === 'inProgress' && !running.canceling);
}

function clearError() {
  el.error.hidden = true;
  el.error.dataset.code = '';
  el.errorMessage.textContent = '';
  el.errorAction.textContent = '';
}

function showError(message, action, code) {
  el.error.dataset.code = code ?? '';
  el.errorMessage.textContent = message;
  el.errorAction.textContent = action;
  el.error.hidden = false;
}

// Plain-language errors: what happened, then what to do next.
const UNREACHABLE = ['The payment service is not answering right now.', 'Wait a minute, then try again. If it keeps happening, call support.'];
const ERRORS = {
  'device-busy': ['The card reader is busy with another refund or payment.', 'Wait until the reader is free (or cancel there), then press Refund again.'],
  'out-of-scope': ['This till may not make this refund: the card reader, the amount or the currency is outside its limits.', 'Check the amount against the limit shown under it, or ask a manager.'],
  'network-error': ['The till cannot reach the payment server. It may be offline.', 'Check the network cable or Wi-Fi, then try again.'],
  'lane-token-expired': ['This till\'s session has expired.', 'Reload the page to start a new session. Ask a manager if it keeps happening.'],
  'lane-token-missing': ['This till is not signed in to the payment server.', 'Open the till link your manager gave you, or reload the page.'],
  'lane-token-invalid': ['This till\'s sign-in is not valid.', 'Open the till link your manager gave you, or reload the page.'],
  'token-unavailable': ['This till could not renew its sign-in with the payment server.', 'Check the network, then press Refund again. Ask a manager if it keeps happening.'],
  'invalid-request': ['Some details are not right.', 'Fix the marked fields, then press Refund.'],
  'bad-request': ['The payment server did not accept these details.', 'Check the marked fields (or the card reader), then press Refund again.'],
  'rate-limited': ['This till sent too many requests at once.', 'Wait a few seconds, then try again.'],
  'not-found': ['The payment server does not know this refund or card reader.', 'Check the card reader, then start the refund again.'],
  'idempotency-key-in-use': ['This refund clashes with an earlier one.', 'Start a new refund.'],
  forbidden: ['The payment service refused this request.', 'Call support: the merchant account may not be set up for refunds on this reader.'],
  'not-authorized': ['The payment service refused this till.', 'Call support: the proxy\'s credentials may be wrong.'],
  'module-exited': ['The payment module stopped.', 'Reload the page. An unfinished refund will be offered for resuming.'],
  'internal-error': ['Something went wrong in the till software.', 'Reload the page and try again. If it keeps happening, call support.'],
  'upstream-error': UNREACHABLE, 'identity-unavailable': UNREACHABLE, 'upstream-timeout': UNREACHABLE,
  'api-error': UNREACHABLE, 'server-error': UNREACHABLE, 'service-unavailable': UNREACHABLE,
};

const paramField = {
  serialNumber: 'device', processingTerminalId: 'device', 'order.amount': 'amount', 'order.currency': 'amount',
  'order.orderId': 'orderId', 'order.description': 'description', operator: 'operator',
};

function explain(err) {
  if (!(err instanceof PayrocError)) {
    return ['Something went wrong in the till software.', 'Reload the page and try again.', 'internal-error'];
  }
  // The module refuses to send a refund it cannot record first.
  if (err.code === 'storage-unavailable') {
    return ['This browser\'s storage is full or turned off, so the refund was not sent. No money was refunded.',
      'Ask IT to free up space or allow site data for this page, then press Refund again.', err.code];
  }
  const [message, action] = ERRORS[err.code] ?? [`The payment server refused the refund (${err.code}).`, 'Check the details and try again, or call support.'];
  return [message, action, err.code];
}

// markFields shows the server's or the module's field errors beside the fields they name.
let firstInvalid = null;
function markFields(err) {
  firstInvalid = null;
  const errors = err?.problem?.errors ?? [];
  let first = null;
  const unknown = [];
  for (const e of errors) {
    const field = paramField[e.parameter];
    const text = e.message || e.detail || 'is not valid';
    if (field) {
      fieldError(field, `${labelOf(field)} ${text}.`.replace(/\.\.$/, '.'));
      first ??= field;
    } else {
      unknown.push(`${e.parameter} ${text}`);
    }
  }
  if (first) firstInvalid = $(fieldIds[first]);
  return unknown;
}

function labelOf(field) {
  return { device: 'Card reader:', amount: 'Amount:', orderId: 'Order number:', description: 'Description:', operator: 'Operator:' }[field];
}

// ---------------------------------------------------------------- receipt

const ENTRY = {
  icc: 'Chip', keyed: 'Keyed', swiped: 'Swiped', swipedFallback: 'Swiped (chip fallback)',
  contactlessIcc: 'Contactless', contactlessMsr: 'Contactless (magstripe)',
};

function showReceipt(result, request) {
  const r = result.refund;
  const approved = result.outcome === 'approved';
  const currency = r.order?.currency || request?.order?.currency || 'USD';
  // An approved refund shows what was authorized (negative: money to the card); a declined one what was asked.
  const authorized = r.transactionResult?.authorizedAmount;
  const minor = approved && authorized ? Math.abs(authorized) : r.order?.amount ?? request?.order?.amount;
  const last4 = (r.card?.cardNumber ?? '').slice(-4);
  const when = r.order?.dateTime ? new Date(r.order.dateTime) : new Date();
  const set = (id, text) => { $(id).textContent = text || '—'; };
  el.receipt.dataset.outcome = result.outcome;
  set('receipt-outcome', approved ? 'APPROVED' : 'DECLINED');
  set('receipt-amount', minor != null ? formatMinor(minor, currency) : '');
  set('receipt-card', [r.card?.type, r.card?.cardNumber].filter(Boolean).join(' ') || (last4 ? `•••• ${last4}` : ''));
  set('receipt-entry-method', ENTRY[r.card?.entryMethod] ?? r.card?.entryMethod);
  set('receipt-approval-code', approved ? r.transactionResult?.approvalCode : '');
  set('receipt-response', [r.transactionResult?.responseMessage, r.transactionResult?.responseCode && `(${r.transactionResult.responseCode})`].filter(Boolean).join(' '));
  set('receipt-refund-id', r.refundId);
  set('receipt-datetime', Number.isNaN(when.getTime()) ? r.order?.dateTime : when.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' }));
  set('receipt-order-id', r.order?.orderId);
  set('receipt-operator', r.operator || request?.operator);
  set('receipt-terminal', [r.processingTerminalId, request?.serialNumber && `reader ${request.serialNumber}`].filter(Boolean).join(' · '));
  el.receipt.hidden = false;
}

// ---------------------------------------------------------------- running a refund

function onStatus(inst) {
  if (!running) return;
  running.id = inst.refundInstructionId;
  running.status = inst.status;
  if (inst.idempotencyKey) running.key = inst.idempotencyKey;
  switch (inst.status) {
    case 'inProgress':
      setStep('sent', 'done');
      setStep('card', 'active');
      if (!running.canceling) setStatus('inProgress', 'Waiting for the card: ask the customer to tap, insert or swipe their card on the reader.');
      break;
    case 'completed':
      setStep('sent', 'done');
      setStep('card', 'done');
      setStep('result', 'active');
      setStatus('reading', 'Card read. Getting the result…');
      break;
    default:
      setStep('sent', 'done');
      setStep('card', 'failed');
  }
  updateCancel();
}

// run drives one refund (new or resumed) through the page: start(onStatus) returns the RefundResult.
// known, when resuming, is the pending record's last instruction state: shown at once (with Cancel), since
// the first long-poll may take up to a minute to answer while nothing changes.
async function run(start, request, key, known) {
  running = { id: null, key, status: null, canceling: false };
  setBusy(true);
  clearError();
  clearFieldErrors();
  el.receipt.hidden = true;
  hideBanner();
  resetTimeline();
  setStep('sent', 'active');
  setStatus('sending', known ? 'Checking the unfinished refund…' : 'Sending the refund to the card reader…');
  if (known?.refundInstructionId && known.status) onStatus(known);
  el.progressTitle.focus();
  let focusNext = null;
  try {
    const result = await start(onStatus);
    focusNext = showOutcome(result, request);
  } catch (err) {
    focusNext = await showFailure(err, running.key);
  } finally {
    running = null;
    setBusy(false);
    updateCancel();
  }
  focusNext?.focus(); // after setBusy: a disabled control cannot take focus
}

function showOutcome(result, request) {
  const inst = result.instruction;
  const amount = request?.order ? formatMinor(request.order.amount, request.order.currency) : 'The amount';
  setStep('sent', 'done');
  switch (result.outcome) {
    case 'approved': {
      setStep('card', 'done');
      setStep('result', 'done');
      el.steps.result.textContent = 'Approved';
      const last4 = (result.refund?.card?.cardNumber ?? '').slice(-4);
      setStatus('approved', `Approved: ${amount} refunded${last4 ? ` to the card ending ${last4}` : ''}.`);
      showReceipt(result, request);
      setOrderId(newOrderId()); // the next refund gets its own order number
      el.amount.value = '';
      return el.receiptTitle;
    }
    case 'declined': {
      setStep('card', 'done');
      setStep('result', 'failed');
      el.steps.result.textContent = 'Declined';
      const msg = result.refund?.transactionResult?.responseMessage;
      setStatus('declined', `Declined by the card issuer${msg ? ` (${msg})` : ''}. No money was refunded.`);
      showError('The refund was declined.', 'Ask the customer for another card, or refund another way.', 'declined');
      showReceipt(result, request);
      return el.receiptTitle;
    }
    case 'failed':
      setStep('card', 'failed');
      setStep('result', 'failed');
      el.steps.result.textContent = 'Failed';
      setStatus('failed', `The card reader could not complete the refund${inst?.errorMessage ? `: ${inst.errorMessage}` : ''}. No money was refunded.`);
      showError('The refund did not go through.', 'Check the card reader is on and connected, then press Refund to try again.', 'failed');
      break;
    case 'canceled':
      setStep('card', 'failed');
      setStep('result', 'failed');
      el.steps.result.textContent = 'Canceled';
      setStatus('canceled', 'Canceled. No money was refunded.');
      break;
  }
  return el.refund;
}

async function showFailure(err, key) {
  if (err?.name === 'AbortError') return el.refund;
  for (const name of Object.keys(el.steps)) if (el.steps[name].dataset.state === 'active') setStep(name, 'todo');
  setStep('result', 'failed');
  el.steps.result.textContent = 'Not finished';
  const [message, action, code] = explain(err);
  const unknown = markFields(err);
  const detail = unknown.length ? ` (${unknown.join('; ')})` : '';
  setStatus('error', 'The refund did not finish.');
  // Did it perhaps reach the device? Then the module kept it: offer to finish it, never a second refund.
  let pending = null;
  try {
    pending = key ? (await payroc.pending()).find((p) => p.idempotencyKey === key) : null;
  } catch { /* the module is gone: the message says reload */ }
  if (pending) {
    showError(message + detail, 'The refund may have reached the card reader. Do not start a new one: press Resume refund above to find out what happened.', code);
    showBanner(pending);
    return el.resume;
  }
  showError(message + detail, action, code);
  return firstInvalid ?? el.refund;
}

let starting = false; // from the press of Refund until run() starts (the look at pending refunds is async)

async function startRefund() {
  if (running || starting || !payroc) return; // one refund at a time: no double submit
  const request = readForm();
  if (!request) return;
  try {
    localStorage.setItem(OPERATOR_KEY, el.operator.value.trim());
    localStorage.setItem(DEVICE_KEY, request.serialNumber);
  } catch { /* ignore */ }
  // Refund pressed again after a failure that may have reached the card reader: the same order's unfinished
  // refund is finished under its own key (a new key could refund the card twice); a different refund for
  // that order waits until the unfinished one is settled.
  starting = true;
  let earlier;
  try {
    earlier = (await payroc.pending().catch(() => [])).find((p) => p.request?.order?.orderId === request.order.orderId);
  } finally {
    starting = false;
  }
  if (earlier && !sameRefund(earlier.request, request)) {
    showBanner(earlier);
    showError(`An earlier refund for order ${request.order.orderId} may have gone through.`,
      'Press Resume refund above to find out what happened (or Dismiss it once checked on the card reader), then refund this order again if needed.',
      'unfinished-refund');
    el.resume.focus();
    return;
  }
  if (earlier) {
    await run((onStatus) => payroc.resume(earlier.idempotencyKey, { onStatus }), earlier.request, earlier.idempotencyKey,
      { refundInstructionId: earlier.refundInstructionId, status: earlier.status, idempotencyKey: earlier.idempotencyKey });
  } else {
    const key = payroc.newIdempotencyKey();
    await run((onStatus) => payroc.refund(request, { idempotencyKey: key, onStatus }), request, key);
  }
  // run hid the banner of an older unfinished refund: offer it again (unless run showed this one's).
  if (el.banner.hidden) await refreshBanner();
}

// sameRefund says whether two requests refund the same money on the same card reader.
function sameRefund(a, b) {
  return a?.serialNumber === b.serialNumber && a?.processingTerminalId === b.processingTerminalId &&
    a?.order?.amount === b.order.amount && a?.order?.currency === b.order.currency;
}

async function cancelRefund() {
  if (!running?.id || running.canceling) return;
  running.canceling = true;
  updateCancel();
  setStatus('canceling', 'Canceling on the card reader…');
  try {
    const inst = await payroc.cancel(running.id);
    if (inst.status === 'completed' && running) {
      setStatus('reading', 'Too late to cancel: the card reader had already finished. Getting the result…');
    }
  } catch (err) {
    if (running) {
      running.canceling = false;
      const [message, action, code] = explain(err);
      showError(`The refund could not be canceled. ${message}`, action, code);
      setStatus('inProgress', 'Still waiting for the card.');
      updateCancel();
    }
  }
}

// ---------------------------------------------------------------- unfinished refunds (after a reload)

function describePending(p) {
  const o = p.request?.order ?? {};
  const amount = o.amount != null && o.currency ? formatMinor(o.amount, o.currency) : 'A refund';
  const when = p.updatedAt ? new Date(p.updatedAt).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' }) : '';
  return `${amount} for order ${o.orderId ?? '?'} on card reader ${p.request?.serialNumber ?? '?'}` +
    `${when ? ` (last seen ${when})` : ''} was not finished. Resume it to see whether the money was refunded.`;
}

function showBanner(p) {
  shownPending = p;
  el.bannerText.textContent = describePending(p);
  el.forget.dataset.confirm = 'false';
  el.forget.textContent = 'Dismiss';
  el.banner.hidden = false;
}

function hideBanner() {
  el.banner.hidden = true;
  shownPending = null;
}

async function refreshBanner() {
  if (!payroc || running) return;
  try {
    const list = await payroc.pending();
    if (list.length) showBanner(list[list.length - 1]);
    else hideBanner();
  } catch { hideBanner(); }
}

async function resumePending() {
  const p = shownPending;
  if (!p || running) return;
  const o = p.request?.order ?? {};
  // Show what is being resumed in the form (read-only while it runs).
  if ([...el.device.options].some((opt) => opt.value === p.request.serialNumber)) el.device.value = p.request.serialNumber;
  el.amount.value = o.amount != null ? formatMinor(o.amount, o.currency).replace(/[^0-9.,]/g, '') : '';
  el.orderId.value = o.orderId ?? '';
  el.description.value = o.description ?? '';
  el.operator.value = p.request.operator ?? '';
  await run((onStatus) => payroc.resume(p.idempotencyKey, { onStatus }), p.request, p.idempotencyKey,
    { refundInstructionId: p.refundInstructionId, status: p.status, idempotencyKey: p.idempotencyKey });
  await refreshBanner();
}

async function forgetPending() {
  const p = shownPending;
  if (!p || running) return;
  if (el.forget.dataset.confirm !== 'true') {
    el.forget.dataset.confirm = 'true';
    el.forget.textContent = 'Yes, forget it';
    el.bannerText.textContent = `${describePending(p)} Only forget it if you checked on the card reader or in the back office that it is settled.`;
    return;
  }
  try { await payroc.forget(p.idempotencyKey); } catch { /* shown again next time */ }
  hideBanner();
  await refreshBanner();
  el.amount.focus();
}

// ---------------------------------------------------------------- start-up

// storageWorks reports whether the page may keep data in this browser (localStorage), where the module
// records each refund before sending it so that a reload can finish it.
function storageWorks() {
  try {
    localStorage.setItem('pos.probe', '1');
    localStorage.removeItem('pos.probe');
    return true;
  } catch {
    return false;
  }
}

function failLoad(err) {
  const missing = err instanceof PayrocError && err.code === 'module-unavailable' && err.status === 404;
  el.loadError.textContent = missing
    ? 'Refunds cannot run: the payment module is not installed on this server. Ask IT to build it (make wasm), then reload this page.'
    : `Refunds cannot run on this page: ${err?.message ?? err}. Reload the page; if it keeps happening, call support.`;
  el.loadError.hidden = false;
  setStatus('error', 'Not ready: refunds are unavailable.');
  el.laneInfo.textContent = 'Not connected';
  document.documentElement.dataset.ready = 'error';
}

function wire() {
  el.form.addEventListener('submit', (e) => { e.preventDefault(); startRefund(); });
  el.cancel.addEventListener('click', cancelRefund);
  el.newOrderId.addEventListener('click', () => setOrderId(newOrderId()));
  el.description.addEventListener('input', () => { descriptionEdited = el.description.value.trim() !== ''; });
  el.currency.addEventListener('change', updateAmountHint);
  el.amount.addEventListener('input', () => fieldError('amount', ''));
  el.print.addEventListener('click', () => window.print());
  el.newRefund.addEventListener('click', () => {
    el.receipt.hidden = true;
    clearError();
    resetTimeline();
    setStatus('idle', 'Ready for the next refund.');
    setOrderId(newOrderId());
    el.amount.value = '';
    el.amount.focus();
  });
  el.resume.addEventListener('click', resumePending);
  el.forget.addEventListener('click', forgetPending);
}

async function main() {
  wire();
  setOrderId(newOrderId());
  try { el.operator.value = localStorage.getItem(OPERATOR_KEY) ?? ''; } catch { /* ignore */ }
  try {
    token = await firstToken();
  } catch (err) {
    failLoad(err instanceof PayrocError ? err : new PayrocError('lane-token-missing', String(err?.message ?? err)));
    return;
  }
  let laneErr = null;
  try {
    [payroc, lane] = await Promise.all([
      load({ baseURL, token, getToken: newToken }),
      fetchLane().catch((err) => { laneErr = err; return null; }),
    ]);
  } catch (err) {
    failLoad(err);
    return;
  }
  if (lane) {
    fillLane();
    el.fields.disabled = false;
    el.refund.disabled = false;
    setStatus('idle', 'Ready for a refund.');
  } else {
    const [message, action, code] = explain(laneErr);
    showError(message, action, code);
    setStatus('error', 'Not ready: the card readers could not be loaded.');
    el.laneInfo.textContent = 'Not connected';
  }
  if (!storageWorks()) {
    el.storageWarning.textContent = 'This browser cannot keep unfinished refunds (its storage is full or turned off). ' +
      'Refunds still work, but do not reload or close this page while one is running. Ask IT to allow site data for this page.';
    el.storageWarning.hidden = false;
  }
  document.documentElement.dataset.ready = 'true';
  await refreshBanner();
}

main();
