// run.js — a refund from the press of Refund to its outcome: the checks before it starts (the form, an
// unfinished refund of the same order, a busy reader, the confirmation above the lane's threshold), the run
// itself in this tab (holding its lock, telling the other tabs), its statuses, its outcome or failure, and
// Cancel. Every step moves the store (state.js); render.js draws it.
import { PayrocError } from './payroc.js';
import { RUNNING } from './state.js';
import * as form from './form.js';
import { t } from './strings.js';
import { focusOn, page, store } from './page.js';
import { refreshLocks, tabs } from './unfinished.js';
import * as receipt from './receipt.js';
import { cancelRefund } from './cancel.js';
import { addRecent, sameRecent } from './recent.js';

const OPERATOR_KEY = 'pos.operator';
const DEVICE_KEY = 'pos.device';
const DEFAULT_CONFIRM_ABOVE = 10000;

// sameRefund says whether two requests refund the same money on the same card reader.
function sameRefund(a, b) {
  return a?.serialNumber === b.serialNumber && a?.processingTerminalId === b.processingTerminalId &&
    a?.order?.amount === b.order.amount && a?.order?.currency === b.order.currency;
}

/** Remembers the cashier and the reader for the next refund (and the next load). */
function remember(request) {
  try {
    localStorage.setItem(OPERATOR_KEY, request.operator ?? '');
    localStorage.setItem(DEVICE_KEY, request.serialNumber);
  } catch { /* not remembered */ }
}

/** The operator and the card reader remembered from the last refund ({} when storage is off). */
export function remembered() {
  try {
    return { operator: localStorage.getItem(OPERATOR_KEY) ?? '', device: localStorage.getItem(DEVICE_KEY) };
  } catch {
    return {};
  }
}

// STARTABLE: the phases Refund starts a refund from (one running, or a question open, ignores it).
const STARTABLE = new Set(['idle', 'done', 'error', 'watching']);

/** The Refund button: checks the form, then runs the refund (or asks to confirm it first). */
export async function startRefund() {
  if (!page.payroc || !STARTABLE.has(store.state.phase)) return;
  const read = form.readForm(store.state);
  if (read.errors) {
    store.set({ fieldErrors: read.errors, focus: form.firstError(read.errors) });
    return;
  }
  store.set({ fieldErrors: {} });
  const { request, minor } = read;
  remember(request);
  // An unfinished refund of the same order: the same refund again is finished under its own key (a new key
  // could refund the card twice); a different refund of that order waits until the first is settled.
  const earlier = (await page.payroc.pending().catch(() => [])).find((p) => p.request?.order?.orderId === request.order.orderId);
  // A second press while the list was read got here too: the first to get here moved the page on (a refund
  // under way, or a question), and the other, finding it so, does nothing.
  if (!STARTABLE.has(store.state.phase)) return;
  if (earlier && !sameRefund(earlier.request, request)) {
    store.go('error', { refund: null, outcome: null, pendingOffer: earlier, forgettable: false,
      error: { code: 'unfinished-refund', orderId: request.order.orderId }, focus: focusOn('resume-button') });
    return;
  }
  if (earlier) {
    await runRefund(earlier.idempotencyKey, earlier.request, { recovered: true, known: earlier });
    return;
  }
  if (store.state.lockedSerials.includes(request.serialNumber)) {
    store.set({ fieldErrors: { device: { key: 'field.deviceBusy' } }, focus: focusOn('device') });
    return;
  }
  // The same amount on the same reader as a refund approved a moment ago: asked first (a confirmation, not a
  // block), since a new order number hides it from every other check.
  const again = sameRecent(store.state, request);
  if (again) {
    store.go('duplicate', { refund: { request, owner: 'self' }, outcome: null, error: null, duplicateOf: again,
      confirmOpenedAt: performance.now(), focus: focusOn('duplicate-title') });
    return;
  }
  const confirmAbove = BigInt(store.state.lane?.confirmAbove ?? DEFAULT_CONFIRM_ABOVE);
  if (minor >= confirmAbove) {
    store.go('confirming', { refund: { request, owner: 'self' }, outcome: null, error: null, confirmOpenedAt: performance.now(),
      focus: focusOn('confirm-title') });
    return;
  }
  await runRefund(page.payroc.newIdempotencyKey(), request, {});
}

/**
 * Runs one refund in this tab, new (known unset) or unfinished (recovered), holding its lock so no other tab
 * of this browser runs it at the same time. The page shows it under way at once, before the lock is asked
 * for: every later press (Refund, the confirmation's, Resume, Cancel beside it) and Back or Escape finds it
 * so, and none sends it again or takes back the confirmation it came from.
 */
export async function runRefund(key, request, { recovered = false, known = null, cancel = false }) {
  enter(key, request, recovered, known);
  await tabs.hold(key, () => drive(key, request, recovered, known, { cancel, entered: true }));
  await refreshLocks();
}

// RUNS_KEY (sessionStorage: this tab only, kept across its reloads) names the refund this tab runs, so that
// a reload takes that one back and no other.
const RUNS_KEY = 'pos.runs';

/** Whether this tab ran the refund of key before it was reloaded. */
export function ranHere(key) {
  try { return sessionStorage.getItem(RUNS_KEY) === key; } catch { return false; }
}

function runsHere(key) {
  try {
    if (key) sessionStorage.setItem(RUNS_KEY, key);
    else sessionStorage.removeItem(RUNS_KEY);
  } catch { /* no sessionStorage: a reload takes the refund only when no other tab runs it */ }
}

// driving holds, per refund this tab runs, what stops its watch when another tab takes the refund (a reloaded
// tab taking its own refund back): that tab runs it from then on, this one only shows it.
const driving = new Map();

/** Stops running key here (another tab took its lock); reports whether this tab was running it. */
export function stopDriving(key) {
  const stop = driving.get(key);
  driving.delete(key);
  if (stop) runsHere(null);
  stop?.abort();
  return !!stop;
}

/**
 * Runs a refund in this tab (its lock held): from sending (or recovering) to its outcome or failure.
 * cancel: Cancel was pressed for it (beside Resume, after its watch ended): it is canceled at once.
 * takenOver: this tab took it over from a tab that closed ('closed') or was in the background ('hidden'); the
 * banner says so, not "reloaded".
 * entered: runRefund already shows it under way (enter), from before its lock was granted.
 */
export async function drive(key, request, recovered, known, { takenOver = '', cancel = false, entered = false } = {}) {
  const unfinished = !known || (await stillPending(key));
  if (entered && !shownEntered(key)) return; // the page moved on while the lock was asked for: nothing is sent
  if (!unfinished) { // another tab finished it meanwhile
    if (entered) store.go('idle', { refund: null, focus: focusOn('amount') });
    return;
  }
  // The page moves first: should it refuse, nothing below has claimed the refund for this tab.
  if (!entered) enter(key, request, recovered, known, takenOver);
  const stop = new AbortController();
  driving.set(key, stop);
  runsHere(key);
  // A recovered refund whose instruction is known to be waiting for the card shows so at once (with Cancel):
  // the first long-poll may take a minute to answer while nothing changes.
  if (recovered && known?.refundInstructionId && known.status === 'inProgress') store.go('inProgress');
  announce();
  if (cancel && store.state.phase === 'inProgress') cancelRefund(); // the Cancel pressed beside Resume
  const onStatus = (inst) => statusSeen(key, inst);
  try {
    const result = recovered
      ? await page.payroc.resume(key, { onStatus, signal: stop.signal })
      : await page.payroc.refund(request, { idempotencyKey: key, onStatus, signal: stop.signal });
    if (!stop.signal.aborted) finished(key, result);
  } catch (err) {
    if (!stop.signal.aborted) await failed(key, err);
  } finally {
    if (driving.get(key) === stop) {
      driving.delete(key);
      runsHere(null);
    }
  }
}

// enter shows the refund of key as this tab's, under way: sending, or recovering an unfinished one (its
// details in the locked form, so that a failed or canceled one can be sent again).
function enter(key, request, recovered, known, takenOver = '') {
  store.go(recovered ? 'recovering' : 'sending', {
    refund: { key, request, id: known?.refundInstructionId ?? null, status: known?.status ?? null, startedAt: startedAt(known),
      recovered, takenOver, owner: 'self', cancelTooLate: false, cancelTrouble: null },
    outcome: null, error: null, fieldErrors: {}, pendingOffer: null, forgettable: false, forgetConfirm: false,
    ...(recovered ? form.showPatch(store.state, request) : { focus: focusOn('progress-title', { preventScroll: true }) }),
  });
}

// shownEntered says whether the page still shows the refund of key as entered and not yet run here.
function shownEntered(key) {
  const s = store.state;
  return (s.phase === 'sending' || s.phase === 'recovering') && s.refund?.key === key && s.refund.owner === 'self' &&
    !driving.has(key);
}

// startedAt is when the refund was submitted, so the elapsed time counts the customer's wait across reloads
// and take-overs: the record's createdAt when it has one, else now (a new refund).
export function startedAt(known) {
  const at = Date.parse(known?.createdAt ?? '');
  return Number.isNaN(at) ? Date.now() : Math.min(at, Date.now());
}

async function stillPending(key) {
  try {
    return (await page.payroc.pending()).some((p) => p.idempotencyKey === key);
  } catch {
    return true;
  }
}

/** Tells the other tabs what this tab's refund looks like now. */
export function announce() {
  const s = store.state;
  const r = s.refund;
  if (!r || r.owner !== 'self') return;
  if (s.phase === 'done') {
    tabs.post({ type: 'done', key: r.key, refund: { ...r, owner: 'other' }, outcome: s.outcome });
  } else if (RUNNING.has(s.phase)) {
    tabs.post({ type: 'refund', key: r.key, refund: { ...r, owner: 'other' } });
  } else {
    tabs.post({ type: 'ended', key: r.key });
  }
}

function statusSeen(key, inst) {
  const s = store.state;
  if (s.refund?.key !== key || !RUNNING.has(s.phase)) return;
  // A replayed submit may answer another instruction id: from now on that is the one to watch and cancel.
  const refund = { ...s.refund, id: inst.refundInstructionId ?? s.refund.id, status: inst.status };
  if (inst.status === 'inProgress') {
    store.go(s.phase === 'canceling' ? 'canceling' : 'inProgress', { refund });
  } else if (inst.status === 'completed') {
    store.go('reading', { refund });
  } else {
    store.set({ refund });
  }
  announce();
}

function finished(key, result) {
  const s = store.state;
  if (s.refund?.key !== key) return;
  const next = {
    outcome: { kind: result.outcome, result }, refund: { ...s.refund, status: result.instruction?.status },
  };
  // An approved refund's order is refunded: the next refund gets its own order number, and no amount; the
  // same amount on the same reader soon after is asked about.
  const cleared = result.outcome === 'approved' ? {
    ...form.orderPatch(s, form.newOrderId()), amount: form.amountOf('', s.lane),
    recent: addRecent(s.lane, s.refund.request, result),
  } : {};
  // The focus goes to the outcome, never to a control that sends money: the Enter that ended this refund
  // (on Cancel, say) must not start the next one.
  const shown = { ...s, ...next, phase: 'done' };
  store.go('done', { ...next, ...cleared, focus: focusOn(receipt.shows(shown) ? 'receipt-title' : 'status') });
  announce();
}

async function failed(key, err) {
  const s = store.state;
  if (s.refund?.key !== key) return;
  if (err?.name === 'AbortError') {
    store.go('error', { error: { code: 'internal-error' } });
    return;
  }
  const code = err instanceof PayrocError ? err.code : 'internal-error';
  const { fieldErrors, unknown } = serverFieldErrors(err);
  // Did it perhaps reach the device? Then the module kept it: offer to finish it, never a second refund.
  let pending = null;
  try {
    pending = (await page.payroc.pending()).find((p) => p.idempotencyKey === key) ?? null;
  } catch { /* the module is gone: the message says reload */ }
  store.go('error', {
    error: { code, retryable: !!err?.retryable, detail: unknown.join('; '), mayHaveReached: !!pending },
    fieldErrors, pendingOffer: pending, forgettable: !!pending && code === 'not-found' && s.refund.recovered,
    focus: focusOn('error'), // the outcome, never a control that sends money
  });
  announce();
  await refreshLocks();
}

const PARAM_FIELD = {
  serialNumber: 'device', processingTerminalId: 'device', 'order.amount': 'amount', 'order.currency': 'amount',
  'order.orderId': 'orderId', 'order.description': 'description', operator: 'operator',
};

// serverFieldErrors places the server's or the module's field errors beside the fields they name.
function serverFieldErrors(err) {
  const fieldErrors = {};
  const unknown = [];
  for (const e of err?.problem?.errors ?? []) {
    const field = PARAM_FIELD[e.parameter];
    const text = e.message || e.detail || 'is not valid';
    if (field) fieldErrors[field] ??= { text: t('field.server', { label: t(`form.${field === 'device' ? 'device' : field}`), text }) };
    else unknown.push(`${e.parameter} ${text}`);
  }
  return { fieldErrors, unknown };
}
