// page.js — what the page's parts share: the one store, drawn by render.js on every change, and the module
// once loaded (null before: every action checks it).
import { Store } from './state.js';
import { render } from './render.js';

export const store = new Store(render);

/** The loaded module (payroc.js's instance), set once by app.js. */
export const page = { payroc: null };

/** A second activation sooner than this after the first is a double tap, not a decision (milliseconds). */
export const DELIBERATE_MS = 500;

/** A focus request for render: a new object each time, so the same target may be asked for again. */
export function focusOn(id, { preventScroll = false } = {}) {
  return { id, preventScroll };
}
