// token.js — the page's lane token and its lane: the token from the link the till was opened with (then
// kept in sessionStorage for reloads of this tab), else the merchant's hook payrocGetLaneToken(), else the
// simulator's /dev/token through the module's devToken; and GET /lane with it, renewing it once on a 401
// (never a revoked one).
import { devToken, PayrocError } from './payroc.js';

const TOKEN_KEY = 'pos.laneToken'; // sessionStorage: survives a reload of this tab only

// The page's words for a till without a token (the module's own message speaks to developers).
const NO_TOKEN = 'This till has no lane token (open the link your manager gave you)';

let token = null;

function tokenFromAddress() {
  const hash = new URLSearchParams(location.hash.slice(1));
  const query = new URLSearchParams(location.search);
  const found = hash.get('token') || query.get('token');
  if (found) {
    hash.delete('token');
    query.delete('token');
    const q = query.toString();
    const h = hash.toString();
    history.replaceState(null, '', location.pathname + (q ? `?${q}` : '') + (h ? `#${h}` : ''));
  }
  return found;
}

function keep(value) {
  token = value;
  try { sessionStorage.setItem(TOKEN_KEY, value); } catch { /* private mode: the token lasts as long as the page */ }
  return value;
}

/** A fresh lane token: the merchant's hook, else the simulator's /dev/token. The module's getToken. */
export async function newToken(baseURL = location.origin) {
  if (typeof globalThis.payrocGetLaneToken === 'function') return keep(await globalThis.payrocGetLaneToken());
  try {
    return keep(await devToken(baseURL));
  } catch (err) {
    if (err instanceof PayrocError && err.code === 'lane-token-missing') {
      throw new PayrocError(err.code, NO_TOKEN, { status: err.status, cause: err });
    }
    throw err;
  }
}

/** The lane token this tab starts with: from the address, else the one saved for this tab, else a new one. */
export async function firstToken(baseURL) {
  const fromAddress = tokenFromAddress();
  if (fromAddress) return keep(fromAddress);
  try {
    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) {
      token = saved;
      return saved;
    }
  } catch { /* no sessionStorage */ }
  return newToken(baseURL);
}

// REVOKED: the back office ended this till's sign-in on purpose; a new token from the token source would undo
// that behind its back, so a revoked token is never renewed (as the module's own getToken, payroc.d.ts).
const REVOKED = 'lane-token-revoked';

/**
 * GET /lane: the lane's card readers and limits. A 401 (an expired or stale saved token) renews the token once;
 * a revoked one does not.
 */
export async function fetchLane(baseURL) {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${baseURL}/lane`, { headers: { Authorization: `Bearer ${token}` }, cache: 'no-store', credentials: 'omit' });
    if (res.ok) return res.json();
    const problem = await res.json().catch(() => null);
    const code = problem?.type?.split('#').pop() || `http-${res.status}`;
    if (res.status === 401 && attempt === 0 && code !== REVOKED) {
      try {
        await newToken(baseURL);
        continue;
      } catch { /* fall through to the error */ }
    }
    throw new PayrocError(code, problem?.detail || `GET /lane answered ${res.status}`, { status: res.status, problem });
  }
}
