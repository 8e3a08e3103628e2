// recent.js — approved refunds of this till, for the question before refunding the same again. A new order
// number is made for each refund, so nothing else would notice the same amount refunded twice on the same
// reader. They are kept in localStorage (every tab of the till sees them, a reload keeps them) for the
// lane's duplicateWindow (seconds, from /lane; 600 when it says nothing; 0: never ask).

const RECENT_KEY = 'pos.recentRefunds';
const DEFAULT_WINDOW_S = 600;

/** The lane's duplicate window in milliseconds. */
function windowMs(lane) {
  return Number(lane?.duplicateWindow ?? DEFAULT_WINDOW_S) * 1000;
}

/** The recent approved refunds kept in this browser, those older than the lane's window left out. */
export function loadRecent(lane, now = Date.now()) {
  let list = [];
  try { list = JSON.parse(localStorage.getItem(RECENT_KEY) ?? '[]'); } catch { /* none kept */ }
  return Array.isArray(list) ? list.filter((r) => now - r?.at < windowMs(lane)) : [];
}

/** Adds an approved refund to the recent ones (and to localStorage) and returns the new list. */
export function addRecent(lane, request, result, now = Date.now()) {
  const o = request?.order ?? {};
  const last4 = String(result?.refund?.card?.cardNumber ?? '').replace(/\D/g, '').slice(-4);
  const list = [...loadRecent(lane, now),
    { serialNumber: request.serialNumber, amount: o.amount, currency: o.currency, last4, at: now }];
  try { localStorage.setItem(RECENT_KEY, JSON.stringify(list)); } catch { /* this tab still knows */ }
  return list;
}

/** The latest recent refund of the same amount on the same reader as request, within the window, or null. */
export function sameRecent(state, request, now = Date.now()) {
  const w = windowMs(state.lane);
  if (w <= 0) return null;
  const o = request.order;
  return [...state.recent, ...loadRecent(state.lane, now)]
    .filter((r) => r.serialNumber === request.serialNumber && r.amount === o.amount && r.currency === o.currency && now - r.at < w)
    .sort((a, b) => b.at - a.at)[0] ?? null;
}
