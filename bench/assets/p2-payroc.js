// P2: how long after navigation the page's load() resolves (performance.now() counts from navigation start).
import { load } from './payroc.js';

const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? undefined;
load({ baseURL: location.origin, token }).then(
  () => { window.benchLoaded = performance.now(); },
  (err) => { window.benchError = `${err?.code ?? ''} ${err?.message ?? err}`; },
);
