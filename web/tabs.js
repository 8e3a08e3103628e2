// tabs.js — several tabs of the page in one browser (one till): only one runs or resumes a given refund at a
// time, and the others show it read-only. A tab holds the Web Lock "payroc-refund:<key>" while it runs a
// refund; another tab that finds the refund unfinished and its lock held watches it through the
// BroadcastChannel "payroc-pos", and waits for the lock: the browser grants it when the running tab closes
// (or its refund ends), and that tab then takes the refund up if it is still unfinished. A reloaded tab takes
// its refund back (steals the lock): the tab that took it over meanwhile hears onLost and watches again.

import { shown, tabId } from './presence.js';

const CHANNEL = 'payroc-pos';
const lockName = (key) => `payroc-refund:${key}`;

// A page left for another (or closed) may be kept frozen in the back/forward cache, still holding its
// locks: it lets go of them when it is hidden, and reloads if it is ever shown again, since another tab may
// have taken its refund over meanwhile (the reload takes up whatever is still unfinished).
let pageHidden;
const hidden = new Promise((resolve) => { pageHidden = resolve; });
addEventListener('pagehide', () => pageHidden());
addEventListener('pageshow', (e) => { if (e.persisted) location.reload(); });
const untilHidden = (p) => Promise.race([p, hidden]);
// A tab that goes away says so: the others stop counting it as a visible tab to hand a refund to.
const tabsOpen = new Set();
addEventListener('pagehide', () => tabsOpen.forEach((t) => t.post({ type: 'gone' })));
const AGAIN = Symbol('again');

// stolen says whether a lock request ended because another tab took the lock (steal), not by an error.
const stolen = (err) => err?.name === 'AbortError';

export class Tabs {
  /**
   * @param {(message: object) => void} onMessage called with every other tab's message
   * @param {(key: string) => void} onLost called when another tab took this tab's lock of key
   */
  constructor(onMessage, onLost = () => {}) {
    this.onLost = onLost;
    tabsOpen.add(this);
    this.channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(CHANNEL) : null;
    if (this.channel) this.channel.onmessage = (e) => onMessage(e.data);
    this.locks = globalThis.navigator?.locks ?? null;
    this.waiting = new Set();
  }

  /** Tells the other tabs (a structured-clone-able object), with this tab's id and whether it is visible. */
  post(message) {
    try { this.channel?.postMessage({ ...message, tab: tabId, visible: shown() }); } catch { /* a closed channel: no other tab to tell */ }
  }

  /** Runs fn holding the refund's lock (waiting for it if another tab holds it), and returns its result. */
  hold(key, fn) {
    if (!this.locks) return fn();
    return this.locks.request(lockName(key), () => untilHidden(fn())).catch((err) => this.#lost(key, err));
  }

  /** Runs fn holding the lock, taken from the tab that holds it now if any (a reloaded tab's own refund). */
  takeBack(key, fn) {
    if (!this.locks) return fn();
    return this.locks.request(lockName(key), { steal: true }, () => untilHidden(fn())).catch((err) => this.#lost(key, err));
  }

  #lost(key, err) {
    if (!stolen(err)) throw err;
    this.onLost(key);
  }

  /** Runs fn holding the lock only if it is free now: resolves true when fn ran (after it ends), else false. */
  async tryHold(key, fn, onGranted) {
    if (!this.locks) {
      onGranted?.(true);
      await fn();
      return true;
    }
    return this.locks.request(lockName(key), { ifAvailable: true }, async (lock) => {
      onGranted?.(!!lock);
      if (!lock) return false;
      await untilHidden(fn());
      return true;
    }).catch((err) => { this.#lost(key, err); return true; });
  }

  /** What takeOverWhenFree's fn returns to let the lock pass to a tab waiting behind this one. */
  static AGAIN = AGAIN;

  /**
   * Once per key: when the lock is granted (the tab that holds it closed or finished), runs fn holding it. When
   * fn returns Tabs.AGAIN it let the lock pass (to a tab waiting behind): this tab waits for it again.
   */
  takeOverWhenFree(key, fn) {
    if (!this.locks || this.waiting.has(key)) return;
    this.waiting.add(key);
    this.locks.request(lockName(key), () => untilHidden(fn())).then(
      (again) => {
        this.waiting.delete(key);
        if (again === AGAIN) this.takeOverWhenFree(key, fn); // let the lock pass once, then wait again
      },
      (err) => { this.waiting.delete(key); this.#lost(key, err); },
    );
  }
}
