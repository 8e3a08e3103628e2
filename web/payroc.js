// payroc.js — the ES module around payroc.wasm: Payroc Cloud card-present refunds from a browser POS.
//
//   import { load, PayrocError } from '/payroc.js';
//   const payroc = await load({ baseURL: location.origin, token, getToken });
//   const result = await payroc.refund({ serialNumber, processingTerminalId, order: {...} }, { onStatus });
//
// load() fetches wasm_exec.js and payroc.wasm from beside this file, starts the Go program once per page and
// resolves with its functions. Every function returns a Promise; failures are PayrocError instances (or the
// AbortSignal's reason when the caller aborted). Types: payroc.d.ts. The protocol itself lives in Go
// (github.com/posrefund/cloud/payroc); this file only loads it and converts values at the boundary.

/** The error every call rejects with (except an abort, which rejects with the signal's reason). */
export class PayrocError extends Error {
  /**
   * @param {string} code stable code to branch on (Payroc's or the proxy's slug, or a local code)
   * @param {string} message human-readable description
   * @param {{status?: number, problem?: object|null, retryable?: boolean, cause?: unknown}} [init]
   */
  constructor(code, message, { status = 0, problem = null, retryable = false, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'PayrocError';
    this.code = code;
    this.status = status;
    this.problem = problem;
    this.retryable = retryable;
  }
}

let loading = null;

/**
 * Loads and starts the module (once per page: later calls resolve with the same instance).
 * @param {{baseURL?: string, token?: string, getToken?: () => (string|Promise<string>),
 *   onConnection?: (connection: {state: 'online'|'retrying', since: number}) => void}} [options]
 */
export function load(options = {}) {
  if (!loading) {
    loading = start(options ?? {}).catch((err) => {
      loading = null; // a failed load may be retried
      throw err;
    });
  }
  return loading;
}

async function start({ baseURL, token, getToken, onConnection } = {}) {
  baseURL = String(baseURL ?? globalThis.location?.origin ?? '').replace(/\/+$/, '');
  if (!baseURL) throw new PayrocError('invalid-request', 'load() needs a baseURL outside a page');
  if (getToken != null && typeof getToken !== 'function') {
    throw new PayrocError('invalid-request', 'getToken must be a function that returns a lane token');
  }
  if (token != null && typeof token !== 'string') {
    throw new PayrocError('invalid-request', 'token must be a string (the lane token)');
  }
  if (onConnection != null && typeof onConnection !== 'function') {
    throw new PayrocError('invalid-request', 'onConnection must be a function');
  }
  if (!token && !getToken) getToken = () => devToken(baseURL); // simulator mode
  const renew = getToken ? () => freshToken(getToken) : undefined;
  if (!token) token = await renew();

  await loadRuntime();
  const go = new globalThis.Go();
  let exitCode = null;
  go.exit = (code) => { exitCode = code; };
  const { instance } = await instantiate(go);

  let ready;
  const handshake = new Promise((resolve) => { ready = resolve; });
  globalThis.__payrocBoot = { baseURL, token, getToken: renew, onConnection: connectionReporter(onConnection), ready: (api) => ready(api) };
  const exited = Promise.resolve()
    .then(() => go.run(instance))
    .then(
      () => new PayrocError('module-exited', `The payroc module stopped (exit code ${exitCode ?? 'unknown'}); reload the page`),
      (err) => new PayrocError('module-exited', `The payroc module crashed: ${err?.message ?? err}; reload the page`, { cause: err }),
    );
  try {
    const raw = await Promise.race([handshake, exited.then((err) => { throw err; })]);
    return wrap(raw, exited);
  } finally {
    delete globalThis.__payrocBoot; // Go removes it at start; this covers a start that failed
  }
}

// connectionReporter adapts the page's onConnection: Go hands it the state and the time of the change (ms
// since the epoch); the page's callback gets {state, since}, and an exception it throws is reported as
// uncaught without disturbing the call that brought the news.
function connectionReporter(onConnection) {
  if (typeof onConnection !== 'function') return undefined;
  return (state, since) => {
    try {
      onConnection({ state, since });
    } catch (err) {
      queueMicrotask(() => { throw err; }); // surfaces as an uncaught error, like any page bug
    }
  };
}

/**
 * A lane token from the proxy's simulator-mode endpoint, GET /dev/token (what load() uses without token and
 * getToken). Rejects with lane-token-missing when the proxy has none to give (not in simulator mode), or
 * network-error when it cannot be reached.
 * @param {string} baseURL the proxy's origin
 * @returns {Promise<string>}
 */
export async function devToken(baseURL) {
  let res;
  try {
    res = await fetch(`${baseURL}/dev/token`, { cache: 'no-store', credentials: 'omit' });
  } catch (err) {
    throw new PayrocError('network-error', `No lane token: ${baseURL}/dev/token could not be reached (${err.message})`, { retryable: true, cause: err });
  }
  if (!res.ok) {
    throw new PayrocError('lane-token-missing',
      'No lane token: pass token or getToken to load() (GET /dev/token exists only when the proxy runs the simulator)',
      { status: res.status });
  }
  const body = await res.json().catch(() => null);
  if (typeof body?.token !== 'string' || !body.token) {
    throw new PayrocError('lane-token-missing', 'GET /dev/token answered without a token', { status: res.status });
  }
  return body.token;
}

// freshToken asks the page's getToken for a lane token. A PayrocError it throws or rejects with passes
// through with its own code; any other failure, or no token, is token-unavailable (retryable).
async function freshToken(getToken) {
  let t;
  try {
    t = await getToken();
  } catch (err) {
    if (err instanceof PayrocError) throw err;
    throw new PayrocError('token-unavailable', `getToken failed: ${err?.message ?? err}`, { retryable: true, cause: err });
  }
  if (typeof t !== 'string' || !t) throw new PayrocError('token-unavailable', 'getToken gave no token', { retryable: true });
  return t;
}

// unavailable is load()'s rejection when one of the module's files cannot be fetched: module-unavailable,
// with the HTTP status (0 when no answer came). A 5xx or no answer may pass on a retry.
function unavailable(message, status, cause) {
  return new PayrocError('module-unavailable', message, { status, retryable: status === 0 || status >= 500, cause });
}

// loadRuntime loads Go's wasm_exec.js (a classic script that defines globalThis.Go) from beside this
// module. A dynamic import needs no inline script, so it works under script-src 'self'.
// Both files are found with `new URL('./…', import.meta.url)`: beside payroc.js wherever the app serves it
// (the proxy, an app's own server, a CDN), and the pattern bundlers (webpack 5, Vite, Parcel, esbuild with
// an asset loader) recognise to copy the file and rewrite the URL. The import itself is left to the browser.
async function loadRuntime() {
  if (typeof globalThis.Go === 'function') return;
  const url = new URL('./wasm_exec.js', import.meta.url).href;
  try {
    await import(/* webpackIgnore: true */ /* @vite-ignore */ url);
  } catch (err) {
    // A failed import does not say why: ask once more for the status, so a missing file reads as a 404.
    const status = await fetch(url, { cache: 'no-store' }).then((res) => (res.ok ? 0 : res.status), () => 0);
    throw unavailable(`wasm_exec.js could not be loaded from ${url}${status ? ` (HTTP ${status})` : ''}; build it with "make wasm"`,
      status, err);
  }
  if (typeof globalThis.Go !== 'function') {
    throw new PayrocError('internal-error', `${url} did not define Go`);
  }
}

// instantiate fetches and compiles payroc.wasm, streaming when the server labels it application/wasm.
async function instantiate(go) {
  const url = new URL('./payroc.wasm', import.meta.url).href;
  let res;
  try {
    res = await fetch(url, { cache: 'no-cache', credentials: 'same-origin' });
  } catch (err) {
    throw unavailable(`payroc.wasm could not be fetched: ${err.message}`, 0, err);
  }
  if (!res.ok) {
    throw unavailable(`payroc.wasm could not be loaded (HTTP ${res.status}); the server must be given it: build it with "make wasm"`,
      res.status);
  }
  try {
    const type = res.headers.get('content-type') ?? '';
    if (typeof WebAssembly.instantiateStreaming === 'function' && type.split(';')[0].trim() === 'application/wasm') {
      return await WebAssembly.instantiateStreaming(res, go.importObject);
    }
    return await WebAssembly.instantiate(await res.arrayBuffer(), go.importObject);
  } catch (err) {
    throw new PayrocError('internal-error', `payroc.wasm could not be started: ${err?.message ?? err}`, { cause: err });
  }
}

// toPayrocError turns the Go side's plain error objects into PayrocError instances; an abort reason (or any
// other thrown value) passes through untouched.
function toPayrocError(err) {
  if (err instanceof PayrocError) return err;
  if (err && typeof err === 'object' && !(err instanceof Error) && err.name === 'PayrocError') {
    return new PayrocError(String(err.code), String(err.message ?? err.code), {
      status: Number(err.status) || 0,
      problem: err.problem ?? null,
      retryable: Boolean(err.retryable),
    });
  }
  if (err instanceof Error && /Go program has already exited/.test(err.message)) {
    return new PayrocError('module-exited', 'The payroc module has stopped; reload the page', { cause: err });
  }
  return err;
}

function invalid(param, message) {
  return new PayrocError('invalid-request', `${param}: ${message}`, {
    problem: {
      type: 'https://docs.payroc.com/api/errors#invalid-request', title: 'Invalid request', status: 0,
      detail: 'One or more fields are invalid', errors: [{ parameter: param, message }],
    },
  });
}

// requestJSON serialises a request for Go. A BigInt (JSON has none) is refused naming its field, such as
// order.amount; any other value JSON cannot carry (a cycle) names the request.
function requestJSON(request) {
  const paths = new WeakMap(); // object → its path in the request
  try {
    return JSON.stringify(request, function (key, value) {
      const parent = paths.get(this);
      const path = parent ? `${parent}.${key}` : key;
      if (typeof value === 'bigint') throw invalid(path, 'must be a Number (an integer in minor units), not a BigInt');
      if (value !== null && typeof value === 'object') paths.set(value, path);
      return value;
    }) ?? 'null';
  } catch (err) {
    if (err instanceof PayrocError) throw err;
    throw invalid('body', `cannot be sent as JSON (${err.message}); amounts are Numbers in minor units`);
  }
}

// goOptions checks the options object and adapts onStatus: Go hands it JSON text; the page's callback gets
// the parsed Instruction, and an exception it throws is reported without disturbing the refund.
function goOptions(options) {
  if (options == null) return {};
  if (typeof options !== 'object') throw invalid('options', 'must be an object');
  const { signal, onStatus, idempotencyKey } = options;
  if (signal != null && !(typeof AbortSignal === 'function' && signal instanceof AbortSignal)) {
    throw invalid('signal', 'must be an AbortSignal');
  }
  const out = { signal: signal ?? undefined, idempotencyKey };
  if (typeof onStatus === 'function') {
    out.onStatus = (json) => {
      let inst;
      try { inst = JSON.parse(json); } catch { return; }
      try {
        onStatus(inst);
      } catch (err) {
        queueMicrotask(() => { throw err; }); // surfaces as an uncaught error, like any page bug
      }
    };
  } else if (onStatus != null) {
    throw invalid('onStatus', 'must be a function');
  }
  return out;
}

// wrap builds the public instance over the Go functions. Calls in flight when the Go program exits, and
// every call after, reject with module-exited instead of hanging.
function wrap(raw, exited) {
  let dead = null;
  const inflight = new Set();
  exited.then((err) => {
    dead = err;
    for (const reject of inflight) reject(err);
    inflight.clear();
  });

  function call(invoke, parse = JSON.parse) {
    if (dead) return Promise.reject(dead);
    return new Promise((resolve, reject) => {
      inflight.add(reject);
      const done = () => inflight.delete(reject);
      let p;
      try {
        p = invoke();
      } catch (err) {
        done();
        reject(toPayrocError(err));
        return;
      }
      Promise.resolve(p).then(
        (text) => {
          done();
          // Every Go function answers JSON text; anything else means the program died under the call.
          if (typeof text !== 'string') {
            reject(dead ?? new PayrocError('module-exited', 'The payroc module has stopped; reload the page'));
            return;
          }
          try { resolve(parse(text)); } catch (err) { reject(new PayrocError('internal-error', `unreadable result: ${err.message}`)); }
        },
        (err) => { done(); reject(toPayrocError(err)); },
      );
    });
  }

  return Object.freeze({
    submit: (request, options) => call(() => raw.submit(requestJSON(request), goOptions(options))),
    watch: (refundInstructionId, options) => call(() => raw.watch(refundInstructionId, goOptions(options))),
    cancel: (refundInstructionId, options) => call(() => raw.cancel(refundInstructionId, goOptions(options))),
    getRefund: (refundId, options) => call(() => raw.getRefund(refundId, goOptions(options))),
    refund: (request, options) => call(() => raw.refund(requestJSON(request), goOptions(options))),
    pending: () => call(() => raw.pending()),
    resume: (idempotencyKey, options) => call(() => raw.resume(idempotencyKey, goOptions(options))),
    forget: (idempotencyKey) => call(() => raw.forget(idempotencyKey)),
    newIdempotencyKey: () => {
      if (dead) throw dead;
      let key;
      try { key = raw.newIdempotencyKey(); } catch (err) { throw toPayrocError(err); }
      if (typeof key !== 'string') throw dead ?? new PayrocError('internal-error', 'newIdempotencyKey gave no key');
      return key;
    },
  });
}
