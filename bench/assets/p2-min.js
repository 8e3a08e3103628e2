// P2 baseline: the same steps as payroc.js's load() — import wasm_exec.js, fetch the module (no-cache),
// compile it streaming, run it, wait for its hello — for a minimal Go program (syscall/js + encoding/json).
async function start() {
  await import('./wasm_exec.js');
  const go = new globalThis.Go();
  const ready = new Promise((resolve) => { globalThis.__minReady = resolve; });
  const res = await fetch('./min.wasm', { cache: 'no-cache', credentials: 'same-origin' });
  if (!res.ok) throw new Error(`min.wasm: HTTP ${res.status}`);
  const type = res.headers.get('content-type') ?? '';
  const { instance } = type.split(';')[0].trim() === 'application/wasm'
    ? await WebAssembly.instantiateStreaming(res, go.importObject)
    : await WebAssembly.instantiate(await res.arrayBuffer(), go.importObject);
  go.run(instance);
  await ready;
  if (globalThis.minEcho('{"a":1}') !== '{"a":1}') throw new Error('minEcho is broken');
}

start().then(
  () => { window.benchLoaded = performance.now(); },
  (err) => { window.benchError = String(err?.message ?? err); },
);
