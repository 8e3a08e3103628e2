// presence.js — which tabs of the till the cashier can see: each tab says, with its messages, whether it is
// visible, so that a refund goes to the tab the cashier is looking at. A closed tab's refund goes to a visible
// tab when there is one (a hidden tab granted its lock lets it pass once), and a visible, focused tab takes
// over a refund whose tab is in the background.

/** This tab's id in the messages. */
export const tabId = globalThis.crypto?.randomUUID?.() ?? String(Math.random()).slice(2);

/** Whether the cashier can see this tab. */
export const shown = () => document.visibilityState !== 'hidden';

/** Whether the cashier is looking at this tab (visible, with the focus). */
export const looking = () => shown() && document.hasFocus();

const visibleWatchers = new Map(); // key → Set of the ids of visible tabs watching it
const ownerHidden = new Map(); // key → whether the tab running it said it was hidden

/** Notes what another tab's message says of its visibility. */
export function note(m) {
  if (m?.type === 'gone') {
    for (const set of visibleWatchers.values()) set.delete(m.tab);
    return;
  }
  if (!m?.key || !m.tab) return;
  if (m.type === 'watcher') {
    const set = visibleWatchers.get(m.key) ?? new Set();
    if (m.visible) set.add(m.tab);
    else set.delete(m.tab);
    visibleWatchers.set(m.key, set);
  } else if (m.type === 'refund') {
    ownerHidden.set(m.key, m.visible === false);
    visibleWatchers.get(m.key)?.delete(m.tab); // it runs it: no longer a watcher
  }
}

/** Whether a visible tab other than this one watches key. */
export const visibleWatcher = (key) => (visibleWatchers.get(key)?.size ?? 0) > 0;

/** Whether the tab running key said it is in the background. */
export const runnerHidden = (key) => ownerHidden.get(key) === true;
