// The kiosk: one ES module, no build step. It loads the payroc package installed from its tarball
// (node_modules/@posrefund/payroc), or with ?module=proxy the copy the proxy serves, and talks to the proxy on
// another origin. Lane tokens come from this app's own server (the back office), which renews them on demand.

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
const params = new URLSearchParams(location.search);

let token = null; // the latest lane token, for this page's own GET /lane
let tokenId = null; // its id, for signing off
let current = null; // the instruction id of the refund in progress

// getToken asks the back office for a fresh lane token: at start, and whenever the proxy says the last one
// expired (the module then retries the call with the new one).
async function getToken() {
  const res = await fetch('lane-token', { method: 'POST', cache: 'no-store' });
  if (!res.ok) throw new Error(`the back office gave no lane token (HTTP ${res.status})`);
  ({ token, tokenId } = await res.json());
  return token;
}

function showError(err) {
  $('error').textContent = err?.message ?? String(err);
  $('error').dataset.code = err?.code ?? 'error';
}

function showStatus(instruction) {
  current = instruction.refundInstructionId;
  $('status').textContent = `Card reader: ${instruction.status}`;
  $('status').dataset.status = instruction.status;
  $('status').dataset.instruction = instruction.refundInstructionId;
  if (instruction.idempotencyKey) $('status').dataset.key = instruction.idempotencyKey;
  const li = document.createElement('li');
  li.textContent = instruction.status;
  $('history').append(li);
  $('cancel-button').hidden = instruction.status !== 'inProgress';
}

function showResult(result) {
  const amount = (result.refund?.order.amount ?? 0) / 100;
  $('outcome').dataset.outcome = result.outcome;
  $('outcome').dataset.refund = result.refund?.refundId ?? '';
  $('outcome').textContent = result.refund
    ? `Refund ${result.outcome}: ${amount.toFixed(2)} ${result.refund.order.currency} (${result.refund.refundId})`
    : `Refund ${result.outcome}`;
  $('cancel-button').hidden = true;
  $('refund-button').disabled = false;
}

// run performs one refund() or resume() with the page's status display, reporting instead of throwing.
async function run(call) {
  $('refund-button').disabled = true;
  $('history').replaceChildren();
  $('outcome').dataset.outcome = '';
  $('outcome').textContent = '';
  $('error').textContent = '';
  $('error').dataset.code = '';
  try {
    showResult(await call({ onStatus: showStatus }));
  } catch (err) {
    showError(err);
    $('refund-button').disabled = false;
  }
}

async function main() {
  const { proxyURL } = await fetch('config.json').then((res) => res.json());
  const moduleURL = params.get('module') === 'proxy'
    ? `${proxyURL}/payroc.js`
    : new URL('node_modules/@posrefund/payroc/payroc.js', location.href).href;
  const { load } = await import(moduleURL);
  const payroc = await load({ baseURL: proxyURL, getToken });

  const res = await fetch(`${proxyURL}/lane`, { headers: { Authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`GET /lane answered HTTP ${res.status}`);
  const lane = await res.json();
  $('lane').textContent = `Lane ${lane.lane}: up to ${(lane.maxAmount / 100).toFixed(2)} ${lane.currency}`;
  for (const d of lane.devices) $('device').append(new Option(d.label || d.serialNumber, d.serialNumber));
  if (params.has('device')) $('device').value = params.get('device');

  $('refund-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const amount = Math.round(Number($('amount').value) * 100);
    const device = lane.devices.find((d) => d.serialNumber === $('device').value);
    run((options) => payroc.refund({
      serialNumber: device.serialNumber, processingTerminalId: device.processingTerminalId, operator: lane.lane,
      order: { orderId: `KIOSK-${Date.now()}`, description: 'Kiosk return', amount, currency: lane.currency },
    }, options));
  });
  // Signing off revokes the kiosk's token at the proxy (through the back office): every later call is refused
  // with lane-token-revoked, and the module does not renew a revoked token.
  $('sign-off').addEventListener('click', async () => {
    const res = await fetch('sign-off', { method: 'POST', body: JSON.stringify({ tokenId }) });
    $('lane').textContent = res.ok ? 'Signed off' : `Sign-off failed (HTTP ${res.status})`;
    $('lane').dataset.signedOff = String(res.ok);
  });
  $('cancel-button').addEventListener('click', async () => {
    try {
      await payroc.cancel(current); // refund() then resolves with the outcome
    } catch (err) {
      showError(err);
    }
  });

  // A refund this browser started but never saw the end of (a reload, a crash): offer to finish it.
  const [pending] = await payroc.pending();
  if (pending) {
    const { amount, currency } = pending.request.order;
    $('resume-text').textContent = `A refund of ${(amount / 100).toFixed(2)} ${currency} on ${pending.request.serialNumber} did not finish.`;
    $('resume-banner').hidden = false;
    $('resume-button').addEventListener('click', () => {
      $('resume-banner').hidden = true;
      run((options) => payroc.resume(pending.idempotencyKey, options));
    }, { once: true });
  } else {
    $('refund-button').disabled = false;
  }
  document.documentElement.dataset.ready = 'true';
}

main().catch((err) => {
  showError(err);
  document.documentElement.dataset.ready = 'error';
});
