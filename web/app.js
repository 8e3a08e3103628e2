// app.js — the POS refund page: start-up (language, lane token, module, lane) and the wiring of each control
// to its action. The actions live by concern: run.js (a refund, from Refund to its outcome), cancel.js,
// dialogs.js (the confirmation and the banner's questions), unfinished.js (refunds a reload or another tab
// left), token.js (the lane token and /lane). Each moves the one state object (state.js, shared through
// page.js); render.js draws everything from it. See index.html for the lane token and README.md for the hooks.
import { load, PayrocError } from './payroc.js';
import { RUNNING } from './state.js';
import * as form from './form.js';
import * as progress from './progress.js';
import * as receipt from './receipt.js';
import { language, pickLanguage, setLanguage, t } from './strings.js';
import { el } from './render.js';
import { focusOn, page, store } from './page.js';
import { fetchLane, firstToken, newToken } from './token.js';
import { remembered, startRefund } from './run.js';
import { cancelRefund } from './cancel.js';
import { backFromConfirm, confirmRefund, forgetOffered, resumeOffered } from './dialogs.js';
import { offerNext, refreshLocks, takeUp } from './unfinished.js';
import { loadRecent } from './recent.js';

const baseURL = location.origin;

// ---------------------------------------------------------------- the form

// typed keeps what the cashier typed into the amount field, parsed once. Typing a new refund clears the
// previous one's receipt and message.
function typed(text, patch = {}) {
  const s = store.state;
  const next = { ...patch, amount: form.amountOf(text, s.lane), fieldErrors: { ...s.fieldErrors, amount: undefined } };
  if (s.phase === 'done' || s.phase === 'error') store.go('idle', { ...next, refund: null, outcome: null, error: null, idleKey: 'status.next' });
  else store.set(next);
}

function pickSuggestion(i) {
  const parsed = store.state.amount.parsed;
  if (!parsed?.ambiguous) return;
  typed(parsed.ambiguous[i].text, { focus: focusOn('amount') });
}

function newRefund() {
  const s = store.state;
  if (s.phase !== 'done') return;
  store.go('idle', { ...form.orderPatch(s, form.newOrderId()), refund: null, outcome: null, idleKey: 'status.next' });
  typed('', { focus: focusOn('amount') });
}

function print(layout) {
  store.set({ printLayout: layout });
  window.print();
}

function switchLanguage() {
  setLanguage(language() === 'en' ? 'fr' : 'en');
  const query = new URLSearchParams(location.search);
  if (query.has('lang')) {
    query.delete('lang'); // the switch is remembered; an old ?lang= would override it on reload
    const q = query.toString();
    history.replaceState(null, '', location.pathname + (q ? `?${q}` : '') + location.hash);
  }
  store.set({ language: language(), ...form.relabelPatch(store.state) });
}

// act runs a control's action, which may be asynchronous: what it throws (a module gone, a bug) shows in the
// error panel (its PayrocError code, else internal-error), never as an unhandled rejection nobody sees.
async function act(action) {
  try {
    await action();
  } catch (err) {
    console.error(err);
    const code = err instanceof PayrocError ? err.code : 'internal-error';
    if (store.can('error')) store.go('error', { error: { code }, focus: focusOn('error') });
  }
}

function wire() {
  const field = (name) => (e) => store.set(form.fieldPatch(store.state, name, e.target.value));
  form.el.form.addEventListener('submit', (e) => { e.preventDefault(); act(startRefund); });
  form.el.amount.addEventListener('input', () => typed(form.el.amount.value));
  form.el.device.addEventListener('change', field('device'));
  form.el.orderId.addEventListener('input', field('orderId'));
  form.el.description.addEventListener('input', field('description'));
  form.el.operator.addEventListener('input', field('operator'));
  form.el.suggestA.addEventListener('click', () => pickSuggestion(0));
  form.el.suggestB.addEventListener('click', () => pickSuggestion(1));
  form.el.confirmButton.addEventListener('click', () => act(confirmRefund));
  form.el.confirmBack.addEventListener('click', backFromConfirm);
  // Escape on a question is its modal dialog's cancel (the dialog hears every Escape while open): Back.
  form.el.confirm.addEventListener('cancel', (e) => { e.preventDefault(); backFromConfirm(); });
  form.el.duplicateButton.addEventListener('click', () => act(confirmRefund));
  form.el.duplicateBack.addEventListener('click', backFromConfirm);
  form.el.duplicate.addEventListener('cancel', (e) => { e.preventDefault(); backFromConfirm(); });
  // A held key repeats: a repeated Enter never submits, confirms or presses anything (it would send the
  // same refund again and again, each ended and re-sent by the key's auto-repeat).
  document.addEventListener('keydown', (e) => { if (e.repeat && e.key === 'Enter') e.preventDefault(); }, { capture: true });
  form.el.newOrderId.addEventListener('click', () => store.set(form.orderPatch(store.state, form.newOrderId())));
  progress.el.cancel.addEventListener('click', () => act(cancelRefund));
  receipt.el.print.addEventListener('click', () => print('page'));
  receipt.el.print80.addEventListener('click', () => print('80mm'));
  receipt.el.newRefund.addEventListener('click', newRefund);
  el.resume.addEventListener('click', () => act(resumeOffered));
  el.forget.addEventListener('click', () => act(forgetOffered));
  el.langSwitch.addEventListener('click', switchLanguage);
  // The clock of the elapsed time and of the connection indicator.
  setInterval(() => {
    const s = store.state;
    if (RUNNING.has(s.phase) || s.phase === 'watching' || s.connection.state === 'retrying') store.set({ now: Date.now() });
  }, 500);
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
  const noToken = err instanceof PayrocError && err.code === 'lane-token-missing';
  // Anything else is the module's or the browser's own words (English): quoted as such.
  const failed = { key: 'load.failed', params: { reason: t('quote', { text: err?.message ?? String(err) }) } };
  store.go('unavailable', {
    loadError: missing ? { key: 'load.missing' } : noToken ? { key: 'load.noToken' } : failed,
    ready: 'error',
  });
}

// loadAll loads the module and the lane together: the module, and the lane or null with why not.
async function loadAll(token) {
  let laneErr = null;
  const [payroc, lane] = await Promise.all([
    load({ baseURL, token, getToken: newToken, onConnection: (connection) => store.set({ connection, now: Date.now() }) }),
    fetchLane(baseURL).catch((err) => { laneErr = err; return null; }),
  ]);
  return { payroc, lane, laneErr };
}

async function main() {
  setLanguage(pickLanguage(), { save: false });
  wire();
  const { operator = '', device = null } = remembered();
  store.set({ language: language(), storageWarning: !storageWorks(), form: { ...store.state.form, operator } });
  store.set(form.orderPatch(store.state, form.newOrderId()));
  let token;
  try {
    token = await firstToken(baseURL);
  } catch (err) {
    failLoad(err instanceof PayrocError ? err : new PayrocError('lane-token-missing', String(err?.message ?? err)));
    return;
  }
  let loaded;
  try {
    loaded = await loadAll(token);
  } catch (err) {
    failLoad(err);
    return;
  }
  const { lane, laneErr } = loaded;
  page.payroc = loaded.payroc;
  if (!lane) {
    store.go('unavailable', { unavailableKey: 'status.laneError', error: { code: laneErr?.code ?? 'internal-error' }, ready: 'true' });
    return;
  }
  const list = await page.payroc.pending().catch(() => []);
  const s = store.state;
  store.go('idle', { lane, amount: form.amountOf(s.amount.text, lane), form: { ...s.form, device: form.firstDevice(lane, device) },
    recent: loadRecent(lane) });
  await refreshLocks();
  // An unfinished refund is taken up at once: the card reader may be waiting for the card right now.
  const latest = list.at(-1);
  if (latest) await takeUp(latest);
  store.set({ ready: 'true', ...(RUNNING.has(store.state.phase) ? {} : { focus: focusOn('amount') }) });
  if (!RUNNING.has(store.state.phase) && !latest) await offerNext();
}

main();
