// connection.js — notices failing calls to the proxy. The module rides out network errors and 5xx answers
// by itself (retrying with backoff), which is right for the refund but leaves the cashier looking at "Waiting
// for the card" with no sign of trouble. This wraps the page's fetch (which the module uses) to see each
// answer: a call that fails to connect, or answers 502/503/504, marks the connection "retrying" from that
// moment; any other answer marks it "online" again.

const FAILING = new Set([502, 503, 504]);

/**
 * Starts watching calls to baseURL (the API under /v1 and /lane). onChange({state, since}) is called when
 * the state changes: 'retrying' with since = when the first failing call ended, or 'online'.
 */
export function watchConnection(baseURL, onChange) {
  const original = globalThis.fetch;
  let state = 'online';
  const mark = (next) => {
    if (next === state) return;
    state = next;
    onChange({ state, since: Date.now() });
  };
  const ours = (input) => {
    const url = String(input?.url ?? input);
    return url.startsWith(`${baseURL}/v1/`) || url.startsWith(`${baseURL}/lane`);
  };
  globalThis.fetch = function fetch(input, init) {
    const p = original.apply(this, arguments);
    if (!ours(input)) return p;
    return p.then((res) => {
      mark(FAILING.has(res.status) ? 'retrying' : 'online');
      return res;
    }, (err) => {
      if (err?.name !== 'AbortError') mark('retrying');
      throw err;
    });
  };
}
