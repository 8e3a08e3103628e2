// render.js — the one render step: every change of the state (state.js) draws the whole page from it, and
// nothing else in the page writes the DOM. The form, the progress panel and the receipt draw themselves
// (form.js, progress.js, receipt.js); this draws the rest: the lane line, the banner of an unfinished refund,
// the page's static sentences in its language, its data-ready and data-print marks, and the focus.
import { RUNNING } from './state.js';
import * as form from './form.js';
import * as progress from './progress.js';
import * as receipt from './receipt.js';
import { language, locale, t, when as formatWhen } from './strings.js';

const $ = (id) => document.getElementById(id);

/** The page's own elements (the form's, progress's and receipt's are in their modules). */
export const el = {
  laneInfo: $('lane-info'), langSwitch: $('lang-switch'), loadError: $('load-error'), storageWarning: $('storage-warning'),
  banner: $('resume-banner'), bannerText: $('resume-text'), bannerActions: $('resume-actions'), resume: $('resume-button'),
  forget: $('forget-button'),
};

/** Draws the page from the state. */
export function render(state) {
  renderLanguage(state);
  document.body.dataset.phase = state.phase;
  document.body.classList.toggle('running', RUNNING.has(state.phase) || state.phase === 'watching');
  if (state.printLayout) document.body.dataset.print = state.printLayout;
  form.render(state);
  progress.render(state);
  receipt.render(state);
  renderBanner(state);
  renderPage(state);
  if (state.ready) document.documentElement.dataset.ready = state.ready;
  renderFocus(state);
}

let drawnIn = ''; // the language the static sentences are in

// renderLanguage writes index.html's static sentences (data-i18n) again when the language changed.
function renderLanguage(state) {
  if (!state.language || state.language === drawnIn) return;
  drawnIn = state.language;
  for (const e of document.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
  document.title = t('page.title');
  el.langSwitch.textContent = t('lang.switch');
  el.langSwitch.lang = language() === 'en' ? 'fr-CA' : 'en-US';
}

let focused = null; // the last focus request carried out

// renderFocus moves the focus once per request, after everything it may land on is drawn.
function renderFocus(state) {
  if (!state.focus || state.focus === focused) return;
  focused = state.focus;
  $(state.focus.id)?.focus({ preventScroll: !!state.focus.preventScroll });
}

function renderPage(state) {
  const lane = state.lane;
  if (lane) {
    const n = lane.devices?.length ?? 0;
    const until = lane.expiresAt ? new Date(lane.expiresAt) : null;
    const readers = n === 1 ? t('lane.readers.one') : t('lane.readers.many', { n });
    el.laneInfo.textContent = readers + (until && !Number.isNaN(until.getTime())
      ? ` · ${t('lane.until', { time: until.toLocaleTimeString(locale(), { hour: '2-digit', minute: '2-digit' }) })}` : '');
  } else {
    el.laneInfo.textContent = state.phase === 'loading' ? t('page.starting') : t('lane.notConnected');
  }
  el.loadError.hidden = !state.loadError;
  el.loadError.textContent = state.loadError ? t(state.loadError.key, state.loadError.params) : '';
  el.storageWarning.hidden = !state.storageWarning;
  el.storageWarning.textContent = state.storageWarning ? t('storage.warning') : '';
}

function describe(request) {
  const o = request?.order ?? {};
  return {
    amount: o.amount != null && o.currency ? form.money(o.amount, o.currency) : '?',
    orderId: o.orderId ?? '?',
    device: request?.serialNumber ? form.deviceLabel(request.serialNumber) : '?', // "Counter 1 (1850010868)", as the form
  };
}

// bannerText is the banner's sentence, and whether it offers Resume/Forget.
function bannerText(state) {
  const { phase, refund, pendingOffer } = state;
  if (phase === 'watching' && refund) return [t('banner.otherTab', describe(refund.request)), false];
  if (refund?.recovered && RUNNING.has(phase)) {
    const key = { closed: 'banner.takenOver', hidden: 'banner.movedHere' }[refund.takenOver] ?? 'banner.recovered';
    return [t(key, describe(refund.request)), false];
  }
  if (!pendingOffer || RUNNING.has(phase) || phase === 'confirming' || phase === 'duplicate') return ['', false];
  const d = describe(pendingOffer.request);
  let text;
  if (state.forgettable) {
    text = t('banner.unknown', d);
  } else {
    const when = pendingOffer.updatedAt
      ? t('banner.when', { time: formatWhen(new Date(pendingOffer.updatedAt)) }) : '';
    text = t('banner.text', { ...d, when });
  }
  if (state.forgetConfirm) text += ` ${t('banner.forgetCheck')}`;
  return [text, true];
}

function renderBanner(state) {
  const [text, actions] = bannerText(state);
  el.banner.hidden = !text;
  if (el.bannerText.textContent !== text) el.bannerText.textContent = text;
  el.bannerActions.hidden = !actions;
  el.resume.hidden = !actions || state.forgetConfirm;
  el.forget.hidden = !actions || !state.forgettable;
  el.forget.textContent = t(state.forgetConfirm ? 'banner.forgetConfirm' : 'banner.forget');
  if (state.forgetConfirm) el.forget.dataset.armedAt = String(state.forgetAt);
  else delete el.forget.dataset.armedAt;
}
