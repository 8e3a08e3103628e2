// state.js — the page's one state object and the transitions between its phases. Every change goes through
// Store.go (a phase change, checked against PHASES) or Store.set (same phase, new facts), and each change
// calls the one render step. Nothing else in the page keeps state that the render reads.

/**
 * Phases and the phases each may move to. A refund runs idle → (confirming or duplicate →) sending → inProgress →
 * (canceling →) reading → done; error ends a refund that did not finish; recovering takes up an unfinished
 * one after a load; watching shows, read-only, a refund another tab of this browser runs (also one this tab ran
 * until the reloaded tab that started it took it back).
 */
export const PHASES = {
  loading: ['idle', 'unavailable', 'recovering', 'watching'],
  unavailable: [],
  idle: ['idle', 'confirming', 'duplicate', 'sending', 'recovering', 'watching', 'error'],
  confirming: ['idle', 'sending'],
  duplicate: ['idle', 'sending'],
  sending: ['inProgress', 'reading', 'done', 'error', 'watching'],
  // recovering → idle: another tab finished the refund while this one waited for its lock.
  recovering: ['inProgress', 'reading', 'done', 'error', 'watching', 'idle'],
  inProgress: ['inProgress', 'canceling', 'reading', 'done', 'error', 'watching'],
  canceling: ['inProgress', 'canceling', 'reading', 'done', 'error', 'watching'],
  reading: ['reading', 'done', 'error', 'watching'],
  done: ['idle', 'confirming', 'duplicate', 'sending', 'recovering', 'watching', 'error', 'done'],
  error: ['idle', 'confirming', 'duplicate', 'sending', 'recovering', 'watching', 'error'],
  watching: ['watching', 'idle', 'confirming', 'duplicate', 'sending', 'recovering', 'done', 'error'],
};

/** Phases in which a refund may be running on a card reader: the form is locked, Cancel may show. */
export const RUNNING = new Set(['sending', 'recovering', 'inProgress', 'canceling', 'reading']);

const FINAL = new Set(['completed', 'failure', 'canceled']);

/**
 * Whether an instruction status is final: the card reader does nothing more for it, so Cancel has nothing to
 * stop and its record may be forgotten. One list, so that the banner and Cancel never disagree about it.
 */
export function isFinal(status) { return FINAL.has(status); }

/** A fresh state: nothing loaded, nothing running. */
export function initialState() {
  return {
    phase: 'loading',
    lane: null, // GET /lane: devices, maxAmount, currency, confirmAbove, merchant
    // The refund on screen (running, just finished, or run by another tab):
    // { key, request, id, status, startedAt, recovered, cancelTooLate, cancelTrouble, owner: 'self'|'other' }
    refund: null,
    outcome: null, // { kind: approved|declined|failed|canceled, result } once final
    error: null, // { code, mayHaveReached } when a refund did not finish
    fieldErrors: {}, // field → { key, params } for the form
    amount: { text: '', parsed: null }, // the amount field's text and parseAmount's answer, parsed once per input
    // The other fields of the form, as the cashier left them: the chosen card reader's serial, the order number,
    // the description (descriptionFor: the order whose default description it is, until the cashier edits it).
    form: { device: '', orderId: '', description: '', descriptionFor: '', descriptionEdited: false, operator: '' },
    confirmOpenedAt: 0, // performance.now() when the confirmation (or the duplicate question) opened
    // Approved refunds of this till (localStorage, all tabs) within the lane's duplicateWindow:
    // [{ serialNumber, amount, currency, last4, at }], at in ms since the epoch
    recent: [],
    duplicateOf: null, // the recent refund the duplicate question is about
    connection: { state: 'online', since: 0 },
    pendingOffer: null, // an unfinished refund offered in the banner (not running here)
    forgettable: false, // the offered refund may be forgotten (its status is final or unknown to the proxy)
    lockedSerials: [], // card readers busy with a refund of this browser (another tab's, or one not finished)
    loadError: null, // { key, params } when the module could not be loaded
    storageWarning: false, // this browser keeps no data (private mode): a reload could not finish a refund
    idleKey: null, // the idle status sentence's key when not the first one (status.next after a refund)
    unavailableKey: null, // the unavailable status sentence's key (status.laneError when /lane failed)
    forgetConfirm: false, // Forget was pressed once: the next press (after DELIBERATE_MS) forgets
    forgetAt: 0, // performance.now() of that first press
    language: '', // the language the page's static sentences are drawn in
    ready: '', // documentElement's data-ready: '' while loading, 'true', or 'error' when the module failed
    printLayout: '', // body's data-print: 'page' or '80mm' while printing
    focus: null, // { id, preventScroll } to move the focus to once: each request is a new object
    now: Date.now(),
  };
}

/** The store: the state, its transitions and the render step they call. */
export class Store {
  /** @param {(state: object, previous: object) => void} render */
  constructor(render) {
    this.state = initialState();
    this.render = render;
  }

  /** Moves to phase (which must be allowed from the current one) with patch merged in, and renders. */
  go(phase, patch = {}) {
    const from = this.state.phase;
    if (!PHASES[from]?.includes(phase)) {
      throw new Error(`state: no transition from ${from} to ${phase}`);
    }
    this.#apply({ ...patch, phase });
  }

  /** Whether the page may move to phase now. */
  can(phase) { return PHASES[this.state.phase]?.includes(phase) ?? false; }

  /** Merges facts that do not change the phase (a typed amount, the connection, the clock), and renders. */
  set(patch) { this.#apply(patch); }

  /** Merges into the running refund, if any, and renders. */
  setRefund(patch) {
    if (!this.state.refund) return;
    this.#apply({ refund: { ...this.state.refund, ...patch } });
  }

  #apply(patch) {
    const previous = this.state;
    this.state = { ...previous, ...patch };
    this.render(this.state, previous);
  }
}
