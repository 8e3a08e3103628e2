// progress.js — the progress panel: what is being refunded (amount, reader, order, large), the timeline, the
// elapsed time, the one status message, the error box of a refund that did not finish, Cancel, and the
// connection indicator. render(state) draws it all.
import { deviceWords, has, responseWords, t } from './strings.js';
import { isFinal, RUNNING } from './state.js';
import { deviceLabel, money } from './form.js';

const $ = (id) => document.getElementById(id);

export const el = {
  title: $('progress-title'), summary: $('summary'), amount: $('progress-amount'), device: $('progress-device'),
  order: $('progress-order'), elapsed: $('elapsed'), status: $('status'), error: $('error'),
  errorMessage: $('error-message'), errorAction: $('error-action'), cancel: $('cancel-button'),
  connection: $('connection'), steps: { sent: $('step-sent'), card: $('step-card'), result: $('step-result') },
};

/** m:ss of a duration in milliseconds. */
export function clock(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * The message and next step for a PayrocError's code: its own sentence when the page has one; else, when the
 * error is retryable (PayrocError.retryable: Payroc, or the way to it, is not answering), that; else a
 * sentence naming the code.
 */
export function explain(code, retryable = false) {
  if (has(`error.${code}`)) return [t(`error.${code}`), t(`error.${code}.action`)];
  if (retryable) return [t('error.unreachable'), t('error.unreachableAction')];
  return [t('error.generic', { code }), t('error.genericAction')];
}

function last4(result) {
  return (result?.refund?.card?.cardNumber ?? '').replace(/\D/g, '').slice(-4);
}

/** The amount of a refund for people: what was authorized when approved, else what was asked. */
export function refundAmount(refund, result) {
  const o = refund?.request?.order ?? {};
  const authorized = result?.refund?.transactionResult?.authorizedAmount;
  const currency = result?.refund?.order?.currency ?? o.currency ?? 'USD';
  const minor = result?.outcome === 'approved' && authorized ? Math.abs(authorized) : result?.refund?.order?.amount ?? o.amount;
  return minor != null ? money(minor, currency) : '';
}

function statusOf(state) {
  const { phase, refund, outcome } = state;
  const amount = refundAmount(refund, outcome?.result);
  switch (phase) {
    case 'loading': return ['idle', t('status.loading')];
    case 'unavailable': return ['error', t(state.unavailableKey ?? 'status.unavailable')];
    case 'idle': return ['idle', t(state.idleKey ?? 'status.idle')];
    case 'confirming': return ['confirming', t('status.confirming')];
    case 'duplicate': return ['duplicate', t('status.duplicate')];
    case 'sending': return ['sending', t('status.sending', { amount })];
    case 'recovering': return ['recovering', t('status.checking', { amount })];
    case 'inProgress':
      if (refund?.cancelTrouble) return ['inProgress', t('status.cancelFailed', { reason: explain(refund.cancelTrouble)[0] })];
      return ['inProgress', t(refund?.recovered ? 'status.recovered' : 'status.inProgress', { amount })];
    case 'canceling':
      return ['canceling', t(refund?.cancelTrouble === 'retrying' ? 'status.cancelRetrying' : 'status.canceling')];
    case 'reading': return ['reading', t(refund?.cancelTooLate ? 'status.tooLateReading' : 'status.reading')];
    case 'watching': return ['watching', t('status.watching')];
    case 'error': return ['error', t('status.error')];
    case 'done': {
      const r = outcome.result;
      const digits = last4(r);
      switch (outcome.kind) {
        case 'approved': {
          const key = refund?.cancelTooLate ? 'status.tooLate' : 'status.approved';
          return ['approved', t(digits ? key : `${key}NoCard`, { amount, last4: digits })];
        }
        case 'declined': {
          const msg = r?.refund?.transactionResult?.responseMessage;
          return ['declined', t('status.declined', { reason: msg ? ` (${responseWords(msg)})` : '' })];
        }
        case 'failed': {
          const msg = r?.instruction?.errorMessage;
          return ['failed', t('status.failed', { reason: msg ? t('status.failedReason', { text: deviceWords(msg) }) : '' })];
        }
        default: return ['canceled', t('status.canceled')];
      }
    }
    default: return ['idle', ''];
  }
}

function steps(state) {
  const { phase, refund, outcome } = state;
  const st = refund?.status;
  switch (phase) {
    case 'sending': case 'recovering': return ['active', 'todo', 'todo', 'step.result'];
    case 'inProgress': case 'canceling': return ['done', 'active', 'todo', 'step.result'];
    case 'reading': return ['done', 'done', 'active', 'step.result'];
    case 'watching':
      if (st === 'completed') return ['done', 'done', 'active', 'step.result'];
      return st ? ['done', 'active', 'todo', 'step.result'] : ['active', 'todo', 'todo', 'step.result'];
    case 'done':
      switch (outcome.kind) {
        case 'approved': return ['done', 'done', 'done', 'step.approved'];
        case 'declined': return ['done', 'done', 'failed', 'step.declined'];
        case 'failed': return ['done', 'failed', 'failed', 'step.failed'];
        default: return ['done', 'failed', 'failed', 'step.canceled'];
      }
    case 'error': return [refund?.id ? 'done' : 'todo', 'todo', 'failed', 'step.notFinished'];
    default: return ['todo', 'todo', 'todo', 'step.result'];
  }
}

/**
 * The unfinished refund offered after this tab's watch of it ended (phase error), when its instruction may
 * still be waiting for the card: Cancel shows for it.
 */
export function liveOffer(state) {
  const { phase, refund, pendingOffer: p } = state;
  if (phase !== 'error' || !p || p.idempotencyKey !== refund?.key || !p.refundInstructionId) return null;
  return isFinal(p.status) ? null : p;
}

/** Draws the progress panel from the state. */
export function render(state) {
  const { phase, refund } = state;
  const running = RUNNING.has(phase) || phase === 'watching';

  // What is being refunded stays large and in view for the whole refund.
  const shown = refund && phase !== 'confirming' && phase !== 'duplicate' && phase !== 'idle';
  el.summary.hidden = !shown;
  if (shown) {
    const o = refund.request?.order ?? {};
    el.amount.textContent = refundAmount(refund, state.outcome?.result);
    el.device.textContent = deviceLabel(refund.request?.serialNumber);
    el.order.textContent = o.orderId ?? '';
  }

  const [sent, card, result, label] = steps(state);
  el.steps.sent.dataset.state = sent;
  el.steps.card.dataset.state = card;
  el.steps.result.dataset.state = result;
  el.steps.result.textContent = t(label);

  el.elapsed.hidden = !(running && refund?.startedAt);
  if (!el.elapsed.hidden) el.elapsed.textContent = t('progress.elapsed', { time: clock(state.now - refund.startedAt) });

  const [status, text] = statusOf(state);
  el.status.dataset.status = status;
  if (el.status.textContent !== text) el.status.textContent = text;
  if (refund?.cancelTooLate && (phase === 'reading' || phase === 'done')) el.status.dataset.cancel = 'too-late';
  else delete el.status.dataset.cancel;

  const err = phase === 'error' || (phase === 'unavailable' && state.error) ? state.error : null;
  el.error.hidden = !err;
  el.error.dataset.code = err?.code ?? '';
  if (err) {
    let [message, action] = err.code === 'unfinished-refund'
      ? [t('error.unfinishedOrder', { orderId: err.orderId }), t('error.unfinishedOrderAction')]
      : explain(err.code, err.retryable);
    if (err.detail) message += ` (${err.detail})`;
    if (err.mayHaveReached) action = t('error.mayHaveReached');
    el.errorMessage.textContent = message;
    el.errorAction.textContent = action;
  }

  // Cancel shows while this tab runs a refund the card reader may still cancel, and beside Resume when the
  // watch of a refund still live ended: a live refund is never left without a working Cancel.
  const mine = refund?.owner === 'self';
  const live = liveOffer(state);
  el.cancel.hidden = !live && !(mine && (phase === 'inProgress' || phase === 'canceling' || phase === 'recovering'));
  el.cancel.disabled = !live && !(mine && phase === 'inProgress' && refund.id && refund.status === 'inProgress');

  const retrying = state.connection.state === 'retrying';
  el.connection.dataset.state = retrying ? 'retrying' : 'online';
  renderConnection(retrying ? t('connection.retrying', { time: clock(state.now - state.connection.since) }) : '');
}

// renderConnection writes "Connection lost, retrying (0:12)" with the ticking time hidden from screen readers,
// so the live region announces the loss once rather than every second.
function renderConnection(text) {
  if (el.connection.textContent === text) return;
  const m = /^(.*?)(\d+:\d\d)(.*)$/.exec(text);
  if (!m) {
    el.connection.textContent = text;
    return;
  }
  const [, before, time, after] = m;
  const spoken = el.connection.querySelector('.spoken');
  if (spoken && spoken.textContent === before) {
    el.connection.querySelector('.tick').textContent = time;
    el.connection.querySelector('.after').textContent = after;
    return;
  }
  const a = Object.assign(document.createElement('span'), { className: 'spoken', textContent: before });
  const b = Object.assign(document.createElement('span'), { className: 'tick', textContent: time });
  b.setAttribute('aria-hidden', 'true');
  const c = Object.assign(document.createElement('span'), { className: 'after', textContent: after });
  c.setAttribute('aria-hidden', 'true');
  el.connection.replaceChildren(a, b, c);
}
