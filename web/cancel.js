// cancel.js — the Cancel button of a refund this tab runs: asks the module to cancel the instruction, and
// keeps asking while the answer is one worth another try (PayrocError.retryable: no answer, or Payroc not
// answering), saying so, until an answer comes or the refund ends. A cancel that came too late (the device
// finished first) is kept on the status and the receipt.
import { PayrocError } from './payroc.js';
import { RUNNING } from './state.js';
import { page, store } from './page.js';
import { announce, runRefund } from './run.js';
import { liveOffer } from './progress.js';

/** The Cancel button. */
export async function cancelRefund() {
  const s = store.state;
  const live = liveOffer(s);
  if (live) {
    // Its watch ended: run it again here (its lock held) and cancel it as soon as it shows waiting.
    await runRefund(live.idempotencyKey, live.request, { recovered: true, known: { ...live, status: 'inProgress' }, cancel: true });
    return;
  }
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
      answered(key, await page.payroc.cancel(id));
      return;
    } catch (err) {
      if (!(await troubled(key, id, err, delay))) return;
      delay = Math.min(delay * 2, 4000);
    }
  }
}

// answered shows the cancel's answer: canceled (the watch brings the outcome) or completed, the device having
// finished first (the watch brings the result; the page keeps saying the cancel came too late).
function answered(key, inst) {
  const now = store.state;
  if (now.refund?.key !== key) return;
  if (inst.status === 'completed') {
    const refund = { ...now.refund, cancelTooLate: true, cancelTrouble: null };
    if (now.phase === 'canceling') store.go('reading', { refund });
    else store.set({ refund });
  } else if (RUNNING.has(now.phase)) {
    store.setRefund({ cancelTrouble: null });
  }
  announce();
}

// troubled shows a failed cancel and reports whether to try again (after waiting delay milliseconds): when
// the error is retryable, or the instruction id changed meanwhile (a replayed submit).
async function troubled(key, id, err, delay) {
  const now = store.state;
  if (now.refund?.key !== key || !RUNNING.has(now.phase)) return false;
  const code = err instanceof PayrocError ? err.code : 'internal-error';
  const idChanged = code === 'not-found' && now.refund.id !== id;
  if (err?.retryable || idChanged) {
    // Offline: keep trying until an answer comes (or the refund ends), and say so.
    if (!idChanged) store.setRefund({ cancelTrouble: 'retrying' });
    await new Promise((resolve) => { setTimeout(resolve, delay); });
    return true;
  }
  const refund = { ...now.refund, cancelTrouble: code };
  if (now.phase === 'canceling') store.go('inProgress', { refund });
  else store.set({ refund });
  return false;
}
