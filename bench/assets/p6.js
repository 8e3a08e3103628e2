// P6: the page runs refunds through the real module and notes, in epoch milliseconds, when each onStatus
// arrives; the benchmark finishes the device in the simulator and compares. It also measures a fetch round
// trip to the proxy (the baseline) and the page clock's offset from the server's (NTP-style, best of n).
import { load } from './payroc.js';

const now = () => performance.timeOrigin + performance.now();
const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? undefined;

const bench = {
  current: null,
  start(serialNumber, processingTerminalId, amount) {
    const rec = { events: [], outcome: null, error: null };
    bench.current = rec;
    payroc.refund({
      serialNumber,
      processingTerminalId,
      order: { orderId: `ORDER-${amount}`, description: `Refund for ORDER-${amount}`, amount, currency: 'USD' },
      operator: 'cashier-1',
    }, {
      onStatus: (inst) => { rec.events.push({ t: now(), status: inst.status, id: inst.refundInstructionId }); },
    }).then(
      (r) => { rec.outcome = r.outcome; },
      (err) => { rec.error = `${err?.code ?? ''} ${err?.message ?? err}`; },
    );
    return true;
  },
  async rtt(n) {
    const out = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const res = await fetch('/healthz', { cache: 'no-store' });
      await res.arrayBuffer();
      out.push(performance.now() - t0);
    }
    return out;
  },
  async clock(n) {
    let best = null;
    for (let i = 0; i < n; i++) {
      const t0 = now();
      const res = await fetch('/bench/now', { cache: 'no-store' });
      const server = Number(await res.text()) / 1000; // µs → ms
      const t1 = now();
      const c = { offset: (t0 + t1) / 2 - server, halfRTT: (t1 - t0) / 2 };
      if (!best || c.halfRTT < best.halfRTT) best = c;
    }
    return best;
  },
};

let payroc;
load({ baseURL: location.origin, token }).then(
  (p) => { payroc = p; window.bench = bench; window.benchReady = true; },
  (err) => { window.benchError = `${err?.code ?? ''} ${err?.message ?? err}`; },
);
