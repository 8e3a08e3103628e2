// app.js — the POS refund page: start-up (language, lane token, module, lane), the actions a cashier takes
// (refund, confirm, cancel, resume, forget, print, new refund) and the refunds they run. Each action moves
// the one state object (state.js) through an explicit transition; the render step below draws everything
// from it (form.js, progress.js, receipt.js). See index.html for the lane token and README.md for the hooks.
import { load, PayrocError } from './payroc.js';
import { RUNNING, Store } from './state.js';
import * as form from './form.js';
import * as progress from './progress.js';
import * as receipt from './receipt.js';
import { language, locale, pickLanguage, setLanguage, t } from './strings.js';
import { watchConnection } from './connection.js';
import { Tabs } from './tabs.js';

const $ = (id) => document.getElementById(id);
const el = {
  laneInfo: $('lane-info'), langSwitch: $('lang-switch'), loadError: $('load-error'), storageWarning: $('storage-warning'),
  banner: $('resume-banner'), bannerText: $('resume-text'), bannerActions: $('resume-actions'), resume: $('resume-button'),
  forget: $('forget-button'),
};

const baseURL = location.origin;
const TOKEN_KEY = 'pos.laneToken'; // sessionStorage: survives a reload of this tab only
const OPERATOR_KEY = 'pos.operator';
const DEVICE_KEY = 'pos.device';
const DEFAULT_CONFIRM_ABOVE = 10000;
const DELIBERATE_MS = 500; // a second activation sooner than this after the first is a double tap, not a decision

let payroc = null; // the loaded module
let token = null;
const store = new Store(render);
const tabs = new Tabs(onTabMessage);

// ---------------------------------------------------------------- render

function render(state) {
  document.body.dataset.phase = state.phase;
  document.body.classList.toggle('running', RUNNING.has(state.phase) || state.phase === 'watching');
  form.render(state);
  progress.render(state);
  receipt.render(state);
  renderBanner(state);
  renderPage(state);
}

function renderPage(state) {
  const lane = state.lane;
  if (lane) {
    const n = lane.devices?.length ?? 0;
    const until = lane.expiresAt ? new Date(lane.expiresAt) : null;
    const readers = n === 1 ? t('lane.readers.one') : t('lane.readers.many', { n });
    el.laneInfo.textContent = readers + (until && !Number.isNaN(until.getTime())
      ? ` · ${t('lane.until', { time: until.toLocaleTimeString(locale(), { hour: '2-digit', minute: '2-digit' }) })}` : '');
  } else {
    el.laneInfo.textContent = state.phase === 'loading' ? t('page.starting') : t('lane.notConnected');
  }
  el.loadError.hidden = !state.loadError;
  el.loadError.textContent = state.loadError ? t(state.loadError.key, state.loadError.params) : '';
  el.storageWarning.hidden = !state.storageWarning;
  el.storageWarning.textContent = state.storageWarning ? t('storage.warning') : '';
}

function describe(request) {
  const o = request?.order ?? {};
  return {
    amount: o.amount != null && o.currency ? form.money(o.amount, o.currency) : '?',
    orderId: o.orderId ?? '?',
    device: request?.serialNumber ?? '?',
  };
}

function renderBanner(state) {
  const { phase, refund, pendingOffer } = state;
  let text = '';
  let actions = false;
  if (phase === 'watching' && refund) {
    text = t('banner.otherTab', describe(refund.request));
  } else if (refund?.recovered && RUNNING.has(phase)) {
    text = t('banner.recovered', describe(refund.request));
  } else if (pendingOffer && !RUNNING.has(phase) && phase !== 'confirming') {
    actions = true;
    const d = describe(pendingOffer.request);
    if (state.forgettable) {
      text = t('banner.unknown', d);
    } else {
      const when = pendingOffer.updatedAt
        ? t('banner.when', { time: new Date(pendingOffer.updatedAt).toLocaleString(locale(), { dateStyle: 'short', timeStyle: 'short' }) }) : '';
      text = t('banner.text', { ...d, when });
    }
    if (state.forgetConfirm) text += ` ${t('banner.forgetCheck')}`;
  }
  el.banner.hidden = !text;
  if (el.bannerText.textContent !== text) el.bannerText.textContent = text;
  el.bannerActions.hidden = !actions;
  el.resume.hidden = !actions || state.forgetConfirm;
  el.forget.hidden = !actions || !state.forgettable;
  el.forget.textContent = t(state.forgetConfirm ? 'banner.forgetConfirm' : 'banner.forget');
  if (state.forgetConfirm) el.forget.dataset.armedAt = String(state.forgetAt);
  else delete el.forget.dataset.armedAt;
}

// Static sentences of index.html (data-i18n), written again when the language changes.
function applyLanguage() {
  for (const e of document.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
  document.title = t('page.title');
  el.langSwitch.textContent = t('lang.switch');
  el.langSwitch.lang = language() === 'en' ? 'fr-CA' : 'en-US';
  form.relabel();
}

// ---------------------------------------------------------------- lane token

function tokenFromAddress() {
  const hash = new URLSearchParams(location.hash.slice(1));
  const query = new URLSearchParams(location.search);
  const found = hash.get('token') || query.get('token');
  if (found) {
    hash.delete('token');
    query.delete('token');
    const q = query.toString();
    const h = hash.toString();
    history.replaceState(null, '', location.pathname + (q ? `?${q}` : '') + (h ? `#${h}` : ''));
  }
  return found;
}

function storeToken(value) {
  try { sessionStorage.setItem(TOKEN_KEY, value); } catch { /* private mode: the token lasts as long as the page */ }
  return value;
}

async function devToken() {
  const res = await fetch(`${baseURL}/dev/token`, { cache: 'no-store', credentials: 'omit' });
  if (!res.ok) throw new PayrocError('lane-token-missing', 'This till has no lane token (open the link your manager gave you)', { status: res.status });
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

// ---------------------------------------------------------------- the form

function amountTyped() {
  const s = store.state;
  const patch = { amount: { text: form.el.amount.value, parsed: form.parseTyped(s) }, fieldErrors: { ...s.fieldErrors, amount: undefined } };
  // Typing a new refund clears the previous one's receipt and message.
  if (s.phase === 'done' || s.phase === 'error') store.go('idle', { ...patch, refund: null, outcome: null, error: null, idleKey: 'status.next' });
  else store.set(patch);
}

function setAmount(text) {
  form.el.amount.value = text;
  amountTyped();
}

// sameRefund says whether two requests refund the same money on the same card reader.
function sameRefund(a, b) {
  return a?.serialNumber === b.serialNumber && a?.processingTerminalId === b.processingTerminalId &&
    a?.order?.amount === b.order.amount && a?.order?.currency === b.order.currency;
}

let starting = false; // from the press of Refund until the refund (or the confirmation) starts

async function startRefund() {
  const s = store.state;
  if (starting || !payroc || !['idle', 'done', 'error', 'watching'].includes(s.phase)) return;
  const read = form.readForm(s);
  if (read.errors) {
    store.set({ fieldErrors: read.errors });
    form.focusFirstError(read.errors);
    return;
  }
  store.set({ fieldErrors: {} });
  const { request, minor } = read;
  try {
    localStorage.setItem(OPERATOR_KEY, request.operator ?? '');
    localStorage.setItem(DEVICE_KEY, request.serialNumber);
  } catch { /* not remembered */ }
  // An unfinished refund of the same order: the same refund again is finished under its own key (a new key
  // could refund the card twice); a different refund of that order waits until the first is settled.
  starting = true;
  let earlier;
  try {
    earlier = (await payroc.pending().catch(() => [])).find((p) => p.request?.order?.orderId === request.order.orderId);
  } finally {
    starting = false;
  }
  if (earlier && !sameRefund(earlier.request, request)) {
    store.go('error', { refund: null, outcome: null, pendingOffer: earlier, forgettable: false,
      error: { code: 'unfinished-refund', orderId: request.order.orderId } });
    el.resume.focus();
    return;
  }
  if (earlier) {
    await runRefund(earlier.idempotencyKey, earlier.request, { recovered: true, known: earlier });
    return;
  }
  if (store.state.lockedSerials.includes(request.serialNumber)) {
    store.set({ fieldErrors: { device: { key: 'field.deviceBusy' } } });
    form.el.device.focus();
    return;
  }
  const confirmAbove = BigInt(store.state.lane?.confirmAbove ?? DEFAULT_CONFIRM_ABOVE);
  if (minor >= confirmAbove) {
    store.go('confirming', { refund: { request, owner: 'self' }, outcome: null, error: null, confirmOpenedAt: performance.now() });
    form.el.confirmTitle.focus();
    return;
  }
  await runRefund(newKey(), request, {});
}

function confirmRefund() {
  const s = store.state;
  if (s.phase !== 'confirming' || performance.now() - s.confirmOpenedAt < DELIBERATE_MS) return;
  runRefund(newKey(), s.refund.request, {});
}

function backFromConfirm() {
  if (store.state.phase !== 'confirming') return;
  store.go('idle', { refund: null });
  form.el.amount.focus();
}

// newKey is a refund's idempotency key, from the module (UUID v4): one key per refund, kept for its retries.
function newKey() {
  return payroc.newIdempotencyKey();
}

// ---------------------------------------------------------------- running a refund

// runRefund runs one refund in this tab, new (known unset) or unfinished (recovered), holding its lock so no
// other tab of this browser runs it at the same time.
async function runRefund(key, request, { recovered = false, known = null }) {
  await tabs.hold(key, () => drive(key, request, recovered, known));
  await refreshLocks();
}

async function drive(key, request, recovered, known) {
  const id = known?.refundInstructionId ?? null;
  const status = known?.status ?? null;
  if (known && !(await stillPending(key))) return; // another tab finished it meanwhile
  store.go(recovered ? 'recovering' : 'sending', {
    refund: { key, request, id, status, startedAt: Date.now(), recovered, owner: 'self', cancelTooLate: false, cancelTrouble: null },
    outcome: null, error: null, fieldErrors: {}, pendingOffer: null, forgettable: false, forgetConfirm: false,
  });
  // A recovered refund whose instruction is known to be waiting for the card shows so at once (with Cancel):
  // the first long-poll may take a minute to answer while nothing changes.
  if (recovered && id && status === 'inProgress') store.go('inProgress');
  if (recovered) {
    // What is taken up shows in the (locked) form too, so that a failed or canceled one can be sent again.
    form.show(request);
    store.set({ amount: { text: form.el.amount.value, parsed: form.parseTyped(store.state) } });
  }
  announce();
  if (!recovered) progress.el.title.focus({ preventScroll: true });
  const onStatus = (inst) => statusSeen(key, inst);
  try {
    const result = recovered
      ? await payroc.resume(key, { onStatus })
      : await payroc.refund(request, { idempotencyKey: key, onStatus });
    finished(key, result);
  } catch (err) {
    await failed(key, err);
  }
}

async function stillPending(key) {
  try {
    return (await payroc.pending()).some((p) => p.idempotencyKey === key);
  } catch {
    return true;
  }
}

// announce tells the other tabs what this tab's refund looks like now.
function announce() {
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
  store.go('done', { outcome: { kind: result.outcome, result }, refund: { ...s.refund, status: result.instruction?.status } });
  announce();
  if (result.outcome === 'approved') {
    form.setOrderId(form.newOrderId()); // the next refund gets its own order number
    form.el.amount.value = '';
    store.set({ amount: { text: '', parsed: null } });
  }
  (receipt.el.receipt.hidden ? form.el.refund : receipt.el.title).focus();
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
    pending = (await payroc.pending()).find((p) => p.idempotencyKey === key) ?? null;
  } catch { /* the module is gone: the message says reload */ }
  store.go('error', {
    error: { code, detail: unknown.join('; '), mayHaveReached: !!pending },
    fieldErrors, pendingOffer: pending, forgettable: !!pending && code === 'not-found' && s.refund.recovered,
  });
  announce();
  await refreshLocks();
  const first = Object.keys(form.FIELDS).find((f) => fieldErrors[f]);
  (pending ? el.resume : first ? $(form.FIELDS[first]) : form.el.refund).focus();
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

// Codes worth another try of a cancel: the request may not have arrived, or Payroc did not answer.
const RETRY_CANCEL = new Set(['network-error', 'upstream-error', 'upstream-timeout', 'identity-unavailable',
  'state-unavailable', 'rate-limited', 'server-error', 'service-unavailable', 'api-error']);

async function cancelRefund() {
  const s = store.state;
  if (s.phase !== 'inProgress' || !s.refund?.id || s.refund.owner !== 'self') return;
  const key = s.refund.key;
  store.go('canceling', { refund: { ...s.refund, cancelTrouble: null } });
  announce();
  let delay = 500;
  for (;;) {
    const cur = store.state;
    if (cur.refund?.key !== key || !RUNNING.has(cur.phase)) return; // the refund ended meanwhile
    const id = cur.refund.id;
    try {
      const inst = await payroc.cancel(id);
      const now = store.state;
      if (now.refund?.key !== key) return;
      if (inst.status === 'completed') {
        // The device finished first: the watch brings the result; the page keeps saying the cancel came too late.
        const refund = { ...now.refund, cancelTooLate: true, cancelTrouble: null };
        if (now.phase === 'canceling') store.go('reading', { refund });
        else store.set({ refund });
      } else if (RUNNING.has(now.phase)) {
        store.setRefund({ cancelTrouble: null });
      }
      announce();
      return;
    } catch (err) {
      const now = store.state;
      if (now.refund?.key !== key || !RUNNING.has(now.phase)) return;
      const code = err instanceof PayrocError ? err.code : 'internal-error';
      const idChanged = code === 'not-found' && now.refund.id !== id;
      if (RETRY_CANCEL.has(code) || err?.retryable || idChanged) {
        // Offline: keep trying until an answer comes (or the refund ends), and say so.
        if (!idChanged) store.setRefund({ cancelTrouble: 'retrying' });
        await new Promise((resolve) => { setTimeout(resolve, delay); });
        delay = Math.min(delay * 2, 4000);
        continue;
      }
      const refund = { ...now.refund, cancelTrouble: code };
      if (now.phase === 'canceling') store.go('inProgress', { refund });
      else store.set({ refund });
      return;
    }
  }
}

// ---------------------------------------------------------------- unfinished refunds

// takeUp takes an unfinished refund of this browser up on load: this tab runs it when no other tab does;
// otherwise it shows it read-only and takes it over when that tab lets go.
async function takeUp(p) {
  let decided;
  const granted = new Promise((resolve) => { decided = resolve; });
  const ran = tabs.tryHold(p.idempotencyKey, () => drive(p.idempotencyKey, p.request, true, p), decided);
  if (await granted) {
    ran.then(() => refreshLocks()).then(() => offerNext());
    return;
  }
  watchOther({ key: p.idempotencyKey, request: p.request, id: p.refundInstructionId ?? null, status: p.status ?? null,
    startedAt: Date.now(), owner: 'other' });
}

// watchOther shows a refund another tab runs, and takes it over if that tab closes before it ends.
function watchOther(refund) {
  const s = store.state;
  if (s.phase === 'loading' || s.phase === 'idle' || s.phase === 'watching') {
    store.go('watching', { refund, outcome: null, error: null });
  }
  tabs.takeOverWhenFree(refund.key, async () => {
    const left = (await payroc.pending().catch(() => [])).find((p) => p.idempotencyKey === refund.key);
    const now = store.state;
    if (left && (now.phase === 'watching' || now.phase === 'idle' || now.phase === 'done' || now.phase === 'error')) {
      await drive(left.idempotencyKey, left.request, true, left);
    } else if (now.phase === 'watching' && now.refund?.key === refund.key) {
      store.go('idle', { refund: null });
    }
    await refreshLocks();
  });
  refreshLocks();
}

function onTabMessage(m) {
  if (!payroc || !m?.key) return;
  const s = store.state;
  const watchingIt = s.phase === 'watching' && s.refund?.key === m.key;
  if (m.type === 'refund') {
    if (watchingIt) store.set({ refund: { ...s.refund, ...m.refund, owner: 'other' } });
    else if (s.refund?.key !== m.key || s.refund.owner !== 'self') watchOther({ ...m.refund, owner: 'other' });
  } else if (m.type === 'done' && watchingIt) {
    store.go('done', { refund: { ...m.refund, owner: 'other' }, outcome: m.outcome });
  } else if (m.type === 'ended' && watchingIt) {
    store.go('idle', { refund: null });
  }
  refreshLocks();
}

// refreshLocks marks busy the card readers of unfinished refunds this tab is not running.
async function refreshLocks() {
  if (!payroc) return;
  let list = [];
  try { list = await payroc.pending(); } catch { return; }
  const s = store.state;
  const mine = s.refund?.owner === 'self' && RUNNING.has(s.phase) ? s.refund.key : null;
  const serials = [...new Set(list.filter((p) => p.idempotencyKey !== mine).map((p) => p.request?.serialNumber).filter(Boolean))].sort();
  if (serials.join() !== s.lockedSerials.join()) store.set({ lockedSerials: serials });
}

// offerNext offers the next unfinished refund nobody runs (after the one taken up on load ended).
async function offerNext() {
  const s = store.state;
  if (RUNNING.has(s.phase) || s.phase === 'watching' || s.pendingOffer) return;
  const list = await payroc.pending().catch(() => []);
  const next = list.filter((p) => !tabs.waiting.has(p.idempotencyKey)).at(-1);
  if (next) store.set({ pendingOffer: next, forgettable: ['completed', 'failure', 'canceled'].includes(next.status) });
}

async function resumeOffered() {
  const p = store.state.pendingOffer;
  if (!p || RUNNING.has(store.state.phase)) return;
  await runRefund(p.idempotencyKey, p.request, { recovered: true, known: p });
  await offerNext();
}

async function forgetOffered() {
  const s = store.state;
  const p = s.pendingOffer;
  if (!p || !s.forgettable || RUNNING.has(s.phase)) return;
  if (!s.forgetConfirm) {
    store.set({ forgetConfirm: true, forgetAt: performance.now() });
    return;
  }
  if (performance.now() - s.forgetAt < DELIBERATE_MS) return;
  try { await payroc.forget(p.idempotencyKey); } catch { /* offered again next time */ }
  store.set({ pendingOffer: null, forgettable: false, forgetConfirm: false });
  await refreshLocks();
  await offerNext();
  form.el.amount.focus();
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
  // The module's files are not on the server (404): a build for IT to make, not a fault to call support for.
  const missing = err instanceof PayrocError && err.code === 'module-unavailable' && err.status === 404;
  store.go('unavailable', {
    loadError: missing ? { key: 'load.missing' } : { key: 'load.failed', params: { reason: err?.message ?? String(err) } },
  });
  document.documentElement.dataset.ready = 'error';
}

function switchLanguage() {
  setLanguage(language() === 'en' ? 'fr' : 'en');
  const query = new URLSearchParams(location.search);
  if (query.has('lang')) {
    query.delete('lang'); // the switch is remembered; an old ?lang= would override it on reload
    const q = query.toString();
    history.replaceState(null, '', location.pathname + (q ? `?${q}` : '') + location.hash);
  }
  applyLanguage();
  store.set({});
}

function wire() {
  form.el.form.addEventListener('submit', (e) => { e.preventDefault(); startRefund(); });
  form.el.amount.addEventListener('input', amountTyped);
  form.el.suggestA.addEventListener('click', () => pickSuggestion(0));
  form.el.suggestB.addEventListener('click', () => pickSuggestion(1));
  form.el.confirmButton.addEventListener('click', confirmRefund);
  form.el.confirmBack.addEventListener('click', backFromConfirm);
  form.el.confirm.addEventListener('cancel', (e) => { e.preventDefault(); backFromConfirm(); }); // Escape
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape') backFromConfirm(); });
  form.el.newOrderId.addEventListener('click', () => form.setOrderId(form.newOrderId()));
  form.el.description.addEventListener('input', form.descriptionTyped);
  progress.el.cancel.addEventListener('click', cancelRefund);
  receipt.el.print.addEventListener('click', () => print('page'));
  receipt.el.print80.addEventListener('click', () => print('80mm'));
  receipt.el.newRefund.addEventListener('click', () => {
    if (store.state.phase !== 'done') return;
    form.setOrderId(form.newOrderId());
    store.go('idle', { refund: null, outcome: null, idleKey: 'status.next' });
    setAmount('');
    form.el.amount.focus();
  });
  el.resume.addEventListener('click', resumeOffered);
  el.forget.addEventListener('click', forgetOffered);
  el.langSwitch.addEventListener('click', switchLanguage);
  // The clock of the elapsed time and of the connection indicator.
  setInterval(() => {
    const s = store.state;
    if (RUNNING.has(s.phase) || s.phase === 'watching' || s.connection.state === 'retrying') store.set({ now: Date.now() });
  }, 500);
}

function pickSuggestion(i) {
  const parsed = store.state.amount.parsed;
  if (!parsed?.ambiguous) return;
  setAmount(parsed.ambiguous[i].text);
  form.el.amount.focus();
}

function print(layout) {
  document.body.dataset.print = layout;
  window.print();
}

async function main() {
  setLanguage(pickLanguage(), { save: false });
  applyLanguage();
  wire();
  form.setOrderId(form.newOrderId());
  try { form.el.operator.value = localStorage.getItem(OPERATOR_KEY) ?? ''; } catch { /* not remembered */ }
  store.set({ storageWarning: !storageWorks() });
  watchConnection(baseURL, (connection) => store.set({ connection, now: Date.now() }));
  try {
    token = await firstToken();
  } catch (err) {
    failLoad(err instanceof PayrocError ? err : new PayrocError('lane-token-missing', String(err?.message ?? err)));
    return;
  }
  let lane = null;
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
  if (!lane) {
    store.go('unavailable', { unavailableKey: 'status.laneError', error: { code: laneErr?.code ?? 'internal-error' } });
    document.documentElement.dataset.ready = 'true';
    return;
  }
  let lastDevice = null;
  try { lastDevice = localStorage.getItem(DEVICE_KEY); } catch { /* none */ }
  form.fillDevices(lane, lastDevice);
  const list = await payroc.pending().catch(() => []);
  store.go('idle', { lane, amount: { text: form.el.amount.value, parsed: form.parseTyped({ lane }) } });
  await refreshLocks();
  // An unfinished refund is taken up at once: the card reader may be waiting for the card right now.
  const latest = list.at(-1);
  if (latest) await takeUp(latest);
  document.documentElement.dataset.ready = 'true';
  if (!RUNNING.has(store.state.phase)) {
    form.el.amount.focus();
    if (!latest) await offerNext();
  }
}

main();
