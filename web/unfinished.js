// unfinished.js — refunds of this browser that have not finished: the one taken up on load (run here, or
// watched read-only while another tab of the till runs it, and taken over when that tab lets go), the other
// tabs' messages, the card readers they keep busy, and the banner's offer to resume (or forget) the next one.
import { isFinal, RUNNING } from './state.js';
import { Tabs } from './tabs.js';
import { page, store } from './page.js';
import { announce, drive, ranHere, startedAt, stopDriving } from './run.js';
import { looking, note, runnerHidden, shown, visibleWatcher } from './presence.js';

/** The other tabs of this browser (tabs.js). */
export const tabs = new Tabs(onTabMessage, onLost);

// reloaded: this tab was reloaded by the cashier. Its own refund (the one it ran before, runsHere) is taken
// back from a tab that took it over meanwhile: the tab the cashier is looking at keeps Cancel. A tab that only
// watched another tab's refund watches it again.
const reloaded = globalThis.performance?.getEntriesByType?.('navigation')?.[0]?.type === 'reload';

// lateKey is the refund this tab watched until the tab running it let go of its lock, finished: that tab told
// its outcome before letting go, but the message may arrive after the lock, and is still shown then.
let lateKey = null;

/**
 * Takes an unfinished refund of this browser up on load: this tab runs it when no other tab does; otherwise
 * it shows it read-only and takes it over when that tab lets go.
 */
export async function takeUp(p) {
  if (reloaded && ranHere(p.idempotencyKey)) {
    tabs.takeBack(p.idempotencyKey, () => drive(p.idempotencyKey, p.request, true, p))
      .then(() => refreshLocks()).then(() => offerNext());
    return;
  }
  let decided;
  const granted = new Promise((resolve) => { decided = resolve; });
  const ran = tabs.tryHold(p.idempotencyKey, () => drive(p.idempotencyKey, p.request, true, p), decided);
  if (await granted) {
    ran.then(() => refreshLocks()).then(() => offerNext());
    return;
  }
  watchOther({ key: p.idempotencyKey, request: p.request, id: p.refundInstructionId ?? null, status: p.status ?? null,
    startedAt: startedAt(p), owner: 'other' });
}

// onLost: another tab (the reloaded one) took this tab's refund: it runs it now, this tab watches again.
function onLost(key) {
  const s = store.state;
  if (!stopDriving(key) || s.refund?.key !== key) return;
  watchOther({ ...s.refund, owner: 'other', takenOver: '', cancelTrouble: null });
}

// endedThere: refunds whose run ended in the tab that ran it, still open (an error with Resume there): their
// lock comes free, but no tab closed, so none takes them over and sends them again on its own.
const endedThere = new Set();

// yielded: refunds whose lock this hidden tab let pass once to a visible tab waiting for it.
const yielded = new Set();

// watchOther shows a refund another tab runs (over this tab's last outcome too: the reader is busy now), and
// takes it over if that tab closes before it ends, unless a visible tab is there to take it.
function watchOther(refund) {
  const s = store.state;
  const mineNow = s.refund?.key === refund.key && RUNNING.has(s.phase); // taken from this tab
  if (['loading', 'idle', 'watching', 'done', 'error'].includes(s.phase) || mineNow) {
    store.go('watching', { refund, outcome: null, error: null, pendingOffer: null });
  }
  tabs.post({ type: 'watcher', key: refund.key });
  tabs.takeOverWhenFree(refund.key, async () => {
    if (!shown() && visibleWatcher(refund.key) && !yielded.has(refund.key)) {
      yielded.add(refund.key);
      return Tabs.AGAIN;
    }
    const left = (await page.payroc.pending().catch(() => [])).find((p) => p.idempotencyKey === refund.key);
    const now = store.state;
    if (endedThere.delete(refund.key)) {
      // The tab that ran it is still open and said how the run ended (an error its cashier sees, with
      // Resume): nothing is sent again from here; the refund is offered here as it is there.
      if (left && (now.phase === 'idle' || now.phase === 'done' || now.phase === 'error') && !now.pendingOffer) {
        store.set({ pendingOffer: left, forgettable: isFinal(left.status) });
      }
    } else if (left && (now.phase === 'watching' || now.phase === 'idle' || now.phase === 'done' || now.phase === 'error')) {
      await drive(left.idempotencyKey, left.request, true, left, { takenOver: 'closed' });
    } else if (now.phase === 'watching' && now.refund?.key === refund.key) {
      lateKey = refund.key;
      store.go('idle', { refund: null });
    }
    await refreshLocks();
  });
  refreshLocks();
}

function onTabMessage(m) {
  note(m);
  if (!page.payroc || !m?.key) return;
  const s = store.state;
  const watchingIt = s.phase === 'watching' && s.refund?.key === m.key;
  if (m.type === 'refund') {
    if (watchingIt) store.set({ refund: { ...s.refund, ...m.refund, owner: 'other' } });
    else if (s.refund?.key !== m.key || s.refund.owner !== 'self') watchOther({ ...m.refund, owner: 'other' });
  } else if (m.type === 'done' && (watchingIt || (lateKey === m.key && s.phase === 'idle' && !s.refund))) {
    lateKey = null;
    if (!watchingIt) store.go('watching', { refund: { ...m.refund, owner: 'other' } });
    store.go('done', { refund: { ...m.refund, owner: 'other' }, outcome: m.outcome });
  } else if (m.type === 'ended' && watchingIt) {
    endedThere.add(m.key);
    store.go('idle', { refund: null });
  }
  refreshLocks();
}

// takingFromBackground: the refund this tab is taking from a tab in the background, while it does.
let takingFromBackground = null;

// onSeen: this tab was shown or focused. A watching tab tells the others (a closed tab's refund goes to a
// visible tab) and takes the refund from a tab in the background; a running tab tells whether it is seen.
function onSeen() {
  const s = store.state;
  if (s.refund?.owner === 'self' && RUNNING.has(s.phase)) announce();
  if (s.phase !== 'watching' || !s.refund) return;
  const { key } = s.refund;
  tabs.post({ type: 'watcher', key });
  if (!looking() || !runnerHidden(key) || takingFromBackground) return;
  takingFromBackground = key;
  tabs.takeBack(key, async () => {
    const left = (await page.payroc.pending().catch(() => [])).find((p) => p.idempotencyKey === key);
    if (left && store.state.phase === 'watching') await drive(key, left.request, true, left, { takenOver: 'hidden' });
  }).finally(() => { takingFromBackground = null; refreshLocks(); });
}
document.addEventListener('visibilitychange', onSeen);
addEventListener('focus', onSeen);

/** Marks busy the card readers of unfinished refunds this tab is not running. */
export async function refreshLocks() {
  if (!page.payroc) return;
  let list = [];
  try { list = await page.payroc.pending(); } catch { return; }
  const s = store.state;
  const mine = s.refund?.owner === 'self' && RUNNING.has(s.phase) ? s.refund.key : null;
  const serials = [...new Set(list.filter((p) => p.idempotencyKey !== mine).map((p) => p.request?.serialNumber).filter(Boolean))].sort();
  if (serials.join() !== s.lockedSerials.join()) store.set({ lockedSerials: serials });
}

/** Offers the next unfinished refund nobody runs (after the one taken up on load ended). */
export async function offerNext() {
  const s = store.state;
  if (RUNNING.has(s.phase) || s.phase === 'watching' || s.pendingOffer) return;
  const list = await page.payroc.pending().catch(() => []);
  const next = list.filter((p) => !tabs.waiting.has(p.idempotencyKey)).at(-1);
  if (next) store.set({ pendingOffer: next, forgettable: isFinal(next.status) });
}
