// A TypeScript POS using the package the way an app does: refund with progress, cancel, resume after a
// reload, and PayrocError narrowed by its code. `make test` type-checks it (tsc --strict --noEmit); it is not
// run (the end-to-end suite runs the same calls in Chromium through examples/kiosk).
import {
  load,
  PayrocError,
  type Connection,
  type Instruction,
  type InstructionStatus,
  type Payroc,
  type PayrocErrorCode,
  type PendingRefund,
  type RefundRequest,
  type RefundResult,
} from '@posrefund/payroc';

/** What the till shows the cashier while a refund runs. */
export interface TillView {
  status(status: InstructionStatus, instructionId: string): void;
  done(result: RefundResult): void;
  error(message: string, code: PayrocErrorCode): void;
}

/** Asks the merchant's back office for a lane token (it calls POST /admin/lane-tokens with its admin key). */
export async function laneToken(): Promise<string> {
  const res = await fetch('/pos/lane-token', { method: 'POST', credentials: 'same-origin' });
  if (!res.ok) throw new Error(`back office answered ${res.status}`);
  const body: unknown = await res.json();
  if (typeof body !== 'object' || body === null || !('token' in body) || typeof body.token !== 'string') {
    throw new Error('back office answered without a token');
  }
  return body.token;
}

/** Loads the module; onConnection hears when calls to the proxy start failing and when they get through again. */
export function start(proxyURL: string, onConnection: (connection: Connection) => void): Promise<Payroc> {
  return load({ baseURL: proxyURL, getToken: laneToken, onConnection });
}

/** Amounts travel in minor units: 12.34 USD is 1234. */
export function toMinorUnits(text: string): number {
  const m = /^(\d{1,9})(?:\.(\d{1,2}))?$/.exec(text.trim());
  if (!m) throw new RangeError(`not an amount: ${text}`);
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

export async function refund(payroc: Payroc, view: TillView, amount: string, signal?: AbortSignal): Promise<RefundResult | null> {
  const request: RefundRequest = {
    serialNumber: '1850010868',
    processingTerminalId: '1234001',
    operator: 'cashier-1',
    order: { orderId: 'ORDER-1001', description: 'Return of goods', amount: toMinorUnits(amount), currency: 'USD' },
  };
  try {
    const result = await payroc.refund(request, {
      onStatus: (i: Instruction) => view.status(i.status, i.refundInstructionId),
      ...(signal ? { signal } : {}),
    });
    view.done(result);
    return result;
  } catch (err) {
    explain(err, view);
    return null;
  }
}

/** Cancels on the device; the device may have finished first, which is an outcome, not an error. */
export async function cancel(payroc: Payroc, instructionId: string): Promise<'canceled' | 'too-late' | 'failed'> {
  const now = await payroc.cancel(instructionId);
  switch (now.status) {
    case 'canceled':
      return 'canceled';
    case 'completed':
      return 'too-late'; // now.refundId names the refund the device made
    case 'failure':
      return 'failed';
    case 'inProgress':
      throw new Error('a cancel never leaves an instruction in progress');
  }
}

/** After a reload: finish what this browser submitted but never saw the end of, oldest first. */
export async function resumeAll(payroc: Payroc, view: TillView): Promise<RefundResult[]> {
  const pending: PendingRefund[] = await payroc.pending();
  pending.sort((a, b) => a.updatedAt.localeCompare(b.updatedAt));
  const results: RefundResult[] = [];
  for (const p of pending) {
    const amount: number = p.request.order.amount;
    view.status(p.status ?? 'inProgress', p.refundInstructionId ?? `(${amount} not sent yet)`);
    const r = await payroc.resume(p.idempotencyKey, { onStatus: (i) => view.status(i.status, i.refundInstructionId) });
    view.done(r);
    results.push(r);
  }
  return results;
}

/** Turns any failure into words for the cashier, branching on the stable code. */
export function explain(err: unknown, view: TillView): void {
  if (err instanceof DOMException && err.name === 'AbortError') return; // the till gave up waiting
  if (!(err instanceof PayrocError)) throw err;
  const code: PayrocErrorCode = err.code;
  switch (code) {
    case 'device-busy':
      view.error('Another refund is running on this card reader.', code);
      break;
    case 'out-of-scope':
      view.error('This amount or card reader is not allowed for this till.', code);
      break;
    case 'lane-token-revoked':
    case 'lane-token-expired':
      view.error('Please sign in again.', code);
      break;
    case 'invalid-request': {
      const fields = err.problem?.errors?.map((e) => e.parameter ?? '?').join(', ') ?? '';
      view.error(`Check ${fields}.`, code);
      break;
    }
    case 'network-error':
      view.error(err.retryable ? 'No connection: trying again is safe.' : 'No connection.', code);
      break;
    default:
      view.error(`${err.message} (HTTP ${err.status})`, code);
  }
}
