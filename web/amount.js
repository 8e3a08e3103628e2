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
 * Reads an amount typed in major units ("12.50", "12,50", "1,234.50", "1.234,50", "1 234,5", "$12.50",
 * "12.50 USD") and returns one of:
 *   { minor }                 a BigInt ≥ 1
 *   { ambiguous: [a, b] }     two readings, each { minor, text }: "1,000" in a two-decimal currency may be
 *                             1,000.00 or 1.00, and the cashier must say which
 *   { error, params }         an error code (see strings.js, "amount.*") and what its sentence needs
 * Either "." or "," may be the decimal separator; the other may group thousands. A currency symbol or the
 * currency's code and spaces are ignored. A lone separator followed by exactly three digits is grouping when
 * the currency has no decimals (JPY "1,234" is 1234 yen); in a two-decimal currency it is ambiguous when both
 * readings make sense ("1,000", "12.340") and an error otherwise ("1.234": too many decimals).
 */
export function parseAmount(text, currency) {
  const digits = currencyDigits(currency);
  const code = String(currency ?? '').toUpperCase();
  let s = String(text ?? '').trim();
  if (code) s = s.replace(new RegExp(`(^${code}|${code}$)`, 'i'), '');
  s = s.replace(/(?:US|CA|C|A)?\p{Sc}/giu, '').replace(/[\s\u00a0\u202f']/g, '');
  if (s === '') return { error: 'empty', params: {} };
  if (s.startsWith('-')) return { error: 'negative', params: {} };
  if (!/^[0-9.,]+$/.test(s) || !/[0-9]/.test(s)) return { error: 'chars', params: {} };
  const seps = s.replace(/[0-9]/g, '');
  let intPart = s;
  let frac = '';
  if (seps.length > 0) {
    const dec = s.lastIndexOf('.') > s.lastIndexOf(',') ? '.' : ',';
    const group = dec === '.' ? ',' : '.';
    const decCount = seps.split(dec).length - 1;
    const lastSep = s.lastIndexOf(dec);
    const tail = s.slice(lastSep + 1);
    const lone = decCount === 1 && tail.length === 3 && !seps.includes(group);
    if (lone && digits === 2 && tail.endsWith('0') && /^[0-9]{1,3}$/.test(s.slice(0, lastSep))) {
      const grouped = BigInt(s.slice(0, lastSep) + tail) * 100n;
      const decimal = BigInt(s.slice(0, lastSep) || '0') * 100n + BigInt(tail.slice(0, 2));
      if (decimal >= 1n) {
        return { ambiguous: [{ minor: grouped, text: minorToDecimal(grouped, currency) }, { minor: decimal, text: minorToDecimal(decimal, currency) }] };
      }
    }
    const groupingOnly = decCount > 1 || (lone && digits === 0);
    if (groupingOnly) {
      if (seps.includes(group)) return { error: 'separators', params: {} };
      if (!groupedOK(s, dec)) return { error: 'grouping', params: {} };
      intPart = s.split(dec).join('');
    } else {
      intPart = s.slice(0, lastSep);
      frac = tail;
      if (intPart.includes(group)) {
        if (!groupedOK(intPart, group)) return { error: 'grouping', params: {} };
        intPart = intPart.split(group).join('');
      }
      if (digits === 0) return { error: 'noDecimals', params: { currency: code } };
      if (frac.length > digits) return { error: 'tooManyDecimals', params: { currency: code, digits } };
    }
  }
  if (intPart === '' && frac === '') return { error: 'empty', params: {} };
  const minor = BigInt(intPart || '0') * 10n ** BigInt(digits) + BigInt(frac.padEnd(digits, '0') || '0');
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
