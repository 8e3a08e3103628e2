// dialogs.js — the questions the page asks the cashier: the confirmation of a refund at or above the lane's
// threshold, or of the same amount on the same reader as a refund approved a moment ago (Refund runs it, Back
// or Escape sends nothing), and the banner's about an unfinished refund
// (Resume runs it again under its own key; Forget, only for one whose outcome is known or that the proxy no
// longer knows, drops its record after a second, deliberate press).
import { RUNNING } from './state.js';
import { DELIBERATE_MS, focusOn, page, store } from './page.js';
import { runRefund } from './run.js';
import { offerNext, refreshLocks } from './unfinished.js';

const ASKING = new Set(['confirming', 'duplicate']);

/**
 * The Refund button of the confirmation or of the duplicate question: runs the refund asked about, unless
 * pressed too soon after the question opened to be meant. The page leaves the question at once (runRefund):
 * a second press, or Back, finds it gone.
 */
export function confirmRefund() {
  const s = store.state;
  if (!ASKING.has(s.phase) || performance.now() - s.confirmOpenedAt < DELIBERATE_MS) return null;
  return runRefund(page.payroc.newIdempotencyKey(), s.refund.request, {});
}

/** The Back button of either question (or Escape): back to the form, nothing sent. */
export function backFromConfirm() {
  if (!ASKING.has(store.state.phase)) return;
  store.go('idle', { refund: null, duplicateOf: null, focus: focusOn('amount') });
}

/** The banner's Resume button. */
export async function resumeOffered() {
  const p = store.state.pendingOffer;
  if (!p || !store.can('recovering')) return; // a refund under way (this one, at a second press) or a question
  await runRefund(p.idempotencyKey, p.request, { recovered: true, known: p });
  await offerNext();
}

/** The banner's Forget button: the first press asks, the second (not a double tap) forgets. */
export async function forgetOffered() {
  const s = store.state;
  const p = s.pendingOffer;
  if (!p || !s.forgettable || RUNNING.has(s.phase)) return;
  if (!s.forgetConfirm) {
    store.set({ forgetConfirm: true, forgetAt: performance.now() });
    return;
  }
  if (performance.now() - s.forgetAt < DELIBERATE_MS) return;
  try { await page.payroc.forget(p.idempotencyKey); } catch { /* offered again next time */ }
  store.set({ pendingOffer: null, forgettable: false, forgetConfirm: false });
  await refreshLocks();
  await offerNext();
  store.set({ focus: focusOn('amount') });
}
