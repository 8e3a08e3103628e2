// amount.js — money as the cashier types it ↔ integer minor units, exactly: string and BigInt arithmetic,
// never floating point. The currency's number of decimals is its ISO 4217 minor unit, the exponent Payroc's
// amounts use: JPY has none, USD two, BHD three.

/** The largest amount a JavaScript number holds exactly (and the module accepts): 2^53 − 1. */
export const MAX_MINOR = 2n ** 53n - 1n;

// ISO 4217 minor units of Payroc's currencies that are not 2. Not Intl.NumberFormat's digits: those come
// from CLDR, which gives 0 for COP, HUF, IDR, PKR, IQD and others whose ISO minor unit is 2 (IQD: 3), and
// would make "10000" COP a 100.00 COP refund.
const ISO_DIGITS = {
  BIF: 0, BYR: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, UYI: 0,
  VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  CLF: 4,
};

/** Decimals of a currency's minor unit (ISO 4217): USD 2, JPY 0, BHD 3. Other codes count as 2. */
export function currencyDigits(currency) {
  return ISO_DIGITS[String(currency).toUpperCase()] ?? 2;
}

/**
 * Reads an amount typed in major units ("12.50", "12,50", "1,234.50", "1.234,50", "1 234,56", "1'234.50",
 * "$12.50", "12.50 USD") and returns one of:
 *   { minor }                 a BigInt ≥ 1
 *   { ambiguous: [a, b] }     two readings, each { minor, text }: "1,000" in a two-decimal currency may be
 *                             1,000.00 or 1.00, and the cashier must say which
 *   { error, params }         an error code (see strings.js, "amount.*") and what its sentence needs
 * Either "." or "," may be the decimal separator; the other may group thousands. A space or an apostrophe
 * only groups thousands, in threes ("1 234,56", "1'234.50"): "12 50" is refused, never read as 1250. The
 * lane's own currency may be written (its code, or its symbol in English or French: "$", "US$", "$ US"); a
 * symbol or code of another currency is refused, naming the lane's. A lone separator followed by exactly three
 * digits groups thousands when the currency has fewer decimals than three (JPY "1,234" is 1234 yen; USD
 * "1,234" is 1,234.00), unless the three digits end in 0 and both readings make sense in a two-decimal
 * currency ("1,000", "12.340"): then the cashier chooses.
 */
export function parseAmount(text, currency) {
  const digits = currencyDigits(currency);
  const code = String(currency ?? '').toUpperCase();
  let s = String(text ?? '').replace(/[\u00a0\u202f\u2009]/g, ' ').trim();
  if (s === '') return { error: 'empty', params: {} };
  if (/[-\u2212]/.test(s)) return { error: 'negative', params: {} };
  s = stripCurrency(s, code);
  if (s === null) return { error: 'otherCurrency', params: { currency: code } };
  if (/[^0-9.,' \u2019]/.test(s)) return { error: 'chars', params: {} };
  if (/[ '\u2019]/.test(s)) {
    // Spaces and apostrophes group thousands only: 1–3 digits, then groups of three, then the decimals.
    if (!/^[0-9]{1,3}(?:[ '\u2019][0-9]{3})+(?:[.,][0-9]*)?$/.test(s)) return { error: 'grouping', params: {} };
    s = s.replace(/[ '\u2019]/g, '');
    const sep = s.match(/[.,]/);
    if (sep) return decimalAmount(s.slice(0, sep.index), s.slice(sep.index + 1), digits, code);
    return wholeAmount(s, digits);
  }
  if (s === '') return { error: 'empty', params: {} };
  if (!/^[0-9.,]+$/.test(s) || !/[0-9]/.test(s)) return { error: 'chars', params: {} };
  const seps = s.replace(/[0-9]/g, '');
  if (seps.length === 0) return wholeAmount(s, digits);
  const dec = s.lastIndexOf('.') > s.lastIndexOf(',') ? '.' : ',';
  const group = dec === '.' ? ',' : '.';
  const decCount = seps.split(dec).length - 1;
  const lastSep = s.lastIndexOf(dec);
  const head = s.slice(0, lastSep);
  const tail = s.slice(lastSep + 1);
  const lone = decCount === 1 && tail.length === 3 && !seps.includes(group) && digits < 3;
  if (lone && digits === 2 && tail.endsWith('0') && /^[0-9]{1,3}$/.test(head)) {
    const grouped = BigInt(head + tail) * 100n;
    const decimal = BigInt(head || '0') * 100n + BigInt(tail.slice(0, 2));
    if (decimal >= 1n) {
      return { ambiguous: [{ minor: grouped, text: minorToDecimal(grouped, currency) }, { minor: decimal, text: minorToDecimal(decimal, currency) }] };
    }
  }
  if (decCount > 1 || lone) { // the separator groups thousands: no decimals were typed
    if (seps.includes(group)) return { error: 'separators', params: {} };
    if (!groupedOK(s, dec)) return { error: 'grouping', params: {} };
    return wholeAmount(s.split(dec).join(''), digits);
  }
  if (head.includes(group) && !groupedOK(head, group)) return { error: 'grouping', params: {} };
  return decimalAmount(head.split(group).join(''), tail, digits, code);
}

// stripCurrency removes the lane's own currency, written before or after the number, and returns what is
// left; null when a symbol or code of another currency is there (a CA$ amount on a USD till is not USD).
function stripCurrency(s, code) {
  const own = ownMarkers(code);
  for (const m of own) {
    const low = s.toLowerCase();
    if (low.startsWith(m)) { s = s.slice(m.length).trim(); break; }
    if (low.endsWith(m)) { s = s.slice(0, -m.length).trim(); break; }
  }
  const code3 = s.match(/^([a-z]{3})\s*[0-9.,]|[0-9.,]\s*([a-z]{3})$/i);
  const foreign = /\p{Sc}/u.test(s) || (code3 && isCurrencyCode(code3[1] ?? code3[2]));
  return foreign && /[0-9]/.test(s) ? null : s;
}

// isCurrencyCode says whether three letters are an ISO 4217 code ("EUR"), not a typing slip ("abc").
function isCurrencyCode(letters) {
  try {
    return Intl.supportedValuesOf('currency').includes(letters.toUpperCase());
  } catch {
    return false;
  }
}

// ownMarkers are the ways the page's languages write the currency itself: its code and its symbols in
// English and French, long and narrow ("$", "US$", "$ US" for USD; "CA$", "$" for CAD), lower case,
// longest first so "US$" is taken whole.
function ownMarkers(code) {
  const out = new Set(code ? [code.toLowerCase()] : []);
  for (const locale of ['en-US', 'en-CA', 'fr-CA']) {
    for (const currencyDisplay of ['symbol', 'narrowSymbol']) {
      try {
        const parts = new Intl.NumberFormat(locale, { style: 'currency', currency: code, currencyDisplay }).formatToParts(1);
        const sym = parts.find((p) => p.type === 'currency')?.value;
        if (sym) out.add(sym.toLowerCase().replace(/\s+/g, ' '));
      } catch { /* not a currency Intl knows: its code alone */ }
    }
  }
  return [...out].sort((a, b) => b.length - a.length);
}

// wholeAmount is a number of major units with no decimals typed.
function wholeAmount(intText, digits) {
  return checked(BigInt(intText || '0') * 10n ** BigInt(digits));
}

// decimalAmount is major units and the decimals typed after the separator.
function decimalAmount(intText, frac, digits, code) {
  if (intText === '' && frac === '') return { error: 'empty', params: {} };
  if (digits === 0) return { error: 'noDecimals', params: { currency: code } };
  if (frac.length > digits) return { error: 'tooManyDecimals', params: { currency: code, digits } };
  return checked(BigInt(intText || '0') * 10n ** BigInt(digits) + BigInt(frac.padEnd(digits, '0') || '0'));
}

function checked(minor) {
  if (minor < 1n) return { error: 'zero', params: {} };
  if (minor > MAX_MINOR) return { error: 'tooLarge', params: {} };
  return { minor };
}

// groupedOK checks "1,234,567"-style grouping: 1–3 digits, then groups of exactly three.
function groupedOK(s, sep) {
  const parts = s.split(sep);
  return /^[0-9]{1,3}$/.test(parts[0]) && parts.slice(1).every((p) => /^[0-9]{3}$/.test(p));
}

/** The decimal text of a minor amount: (4999n, "USD") → "49.99"; (5n, "JPY") → "5". */
export function minorToDecimal(minor, currency) {
  const digits = currencyDigits(currency);
  const neg = BigInt(minor) < 0n;
  let s = (neg ? -BigInt(minor) : BigInt(minor)).toString();
  if (digits > 0) {
    s = s.padStart(digits + 1, '0');
    s = `${s.slice(0, -digits)}.${s.slice(-digits)}`;
  }
  return (neg ? '-' : '') + s;
}

/**
 * A minor amount for people: (4999, "USD") → "$49.99" in the page's locale. Exact: it formats the decimal
 * text with the currency's ISO digits (Intl's own may differ, see ISO_DIGITS).
 */
export function formatMinor(minor, currency, locale) {
  const text = minorToDecimal(minor, currency);
  const digits = currencyDigits(currency);
  try {
    return new Intl.NumberFormat(locale, {
      style: 'currency', currency, minimumFractionDigits: digits, maximumFractionDigits: digits,
    }).format(text);
  } catch {
    return `${text} ${currency}`;
  }
}
