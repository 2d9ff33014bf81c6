import { CredentialsRejectedError, createEkaAuth, type EkaAuthEvent, isEkaAuthError } from '@eka/auth-core';
import { webStorage } from '@eka/auth-core/web';
import { installGlobalFetch } from '@eka/auth-fetch';
import './style.css';

/** What the page's backend tells it (`GET /session/config`): no secrets. */
interface PageConfig {
  gatewayUrl: string;
  foreignUrl?: string;
}

/** The outcome of one API call, as shown on the page (and returned to tests). */
export interface CallResult {
  ok: boolean;
  status?: number;
  /** The gateway's token generation the call was answered with (`/api/echo`). */
  generation?: number;
  error?: string;
}

const config: PageConfig = await (await fetch('/session/config')).json();
const params = new URLSearchParams(location.search);
// `?locks=off` shows the fallback for browsers without the Web Locks API.
const leaseOnly = params.get('locks') === 'off';
// `?coordination=off` drops the cross-tab lock to show what goes wrong without it (tests only).
const uncoordinated = params.get('coordination') === 'off';
const storage = webStorage(leaseOnly ? { locks: null } : {});
if (uncoordinated) delete storage.lock;
const element = (id: string) => document.getElementById(id)!;
const events: string[] = [];

const auth = createEkaAuth({
  baseUrl: config.gatewayUrl,
  storage,
  storageKey: 'eka-auth:browser-spa',
  // The page never sees a client secret: its backend logs in (or refreshes) and hands over a token.
  login: async ({ signal, reason }) => {
    const response = await postJson('/session/token', { reason }, signal);
    if (response.status === 401) {
      throw new CredentialsRejectedError('CREDENTIALS_REJECTED', 'not signed in', { status: 401 });
    }
    if (!response.ok) throw new Error(`the token backend answered ${response.status}`);
    return response.json();
  },
  onEvent: (event) => log(describe(event)),
});

// Every fetch on the page now carries the token to the Eka gateway, and only there.
installGlobalFetch(auth);

async function callApi(): Promise<CallResult> {
  let result: CallResult;
  try {
    const response = await fetch(`${config.gatewayUrl}/api/echo?from=browser-spa`);
    const body = response.ok ? await response.json() : undefined;
    result = { ok: response.ok, status: response.status, generation: body?.generation };
  } catch (error) {
    result = { ok: false, error: isEkaAuthError(error) ? error.code : String(error) };
  }
  element('last-call').textContent = result.ok
    ? `${result.status} OK · answered for gateway token #${result.generation}`
    : `failed: ${result.error ?? result.status}`;
  return result;
}

/** Calls an origin outside `allowedOrigins`: the request goes out without any token header. */
async function callForeign(): Promise<{ sent: boolean; tokenAttached: boolean; readable: boolean }> {
  const url = `${config.foreignUrl}/landing`;
  const tokenAttached = auth.isAllowedUrl(url);
  let readable = false;
  try {
    await (await fetch(url)).text();
    readable = true;
  } catch {
    // That host sends no CORS headers, so the browser hides its answer; the request was still sent.
  }
  element('foreign-call').textContent =
    `${new URL(url).host}: sent ${tokenAttached ? 'WITH' : 'without'} a token` +
    (readable ? '' : ' (its answer is unreadable here: that host allows no CORS)');
  return { sent: true, tokenAttached, readable };
}

async function signIn(): Promise<void> {
  await postJson('/session/signin', {});
  try {
    await auth.login();
  } catch (error) {
    log(`sign-in failed: ${isEkaAuthError(error) ? error.code : String(error)}`);
  }
}

async function signOut(): Promise<void> {
  // Removing the stored session logs every other tab out too (they get a `storage` event).
  await auth.logout();
  await postJson('/session/signout', {});
}

function postJson(url: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  });
}

function describe(event: EkaAuthEvent): string {
  switch (event.type) {
    case 'state':
      return `state ${event.from} → ${event.to}`;
    case 'token': {
      const origin =
        event.source === 'storage' ? 'adopted from another tab (or a reload)' : 'from the backend';
      return `token generation ${event.generation} ${origin}`;
    }
    case 'request':
      return `${event.kind} via the backend ${event.ok ? 'ok' : 'failed'}`;
    case 'failure':
      return `failure ${event.error.code}`;
    case 'unauthorized':
      return `401 answered: ${event.action}${event.code ? ` (${event.code})` : ''}`;
    case 'disposed':
      return 'disposed';
    default:
      return `warning: ${event.message}`;
  }
}

function log(line: string): void {
  events.unshift(`${new Date().toLocaleTimeString()} ${line}`);
  events.length = Math.min(events.length, 10);
  element('log').replaceChildren(
    ...events.map((text) => Object.assign(document.createElement('li'), { textContent: text })),
  );
}

function render(): void {
  const { state, generation, expiresAt } = auth.getSnapshot();
  const badge = element('state');
  badge.textContent = state;
  badge.className = `badge ${state}`;
  element('generation').textContent = String(generation);
  element('expires').textContent =
    expiresAt === undefined || state === 'unauthenticated'
      ? '—'
      : expiresAt > Date.now()
        ? `in ${((expiresAt - Date.now()) / 1000).toFixed(1)} s`
        : `${((Date.now() - expiresAt) / 1000).toFixed(1)} s ago (refreshed on the next call)`;
}

element('locks').textContent = uncoordinated
  ? 'none (?coordination=off): every tab refreshes on its own'
  : !leaseOnly && 'locks' in navigator
    ? 'Web Locks API'
    : 'lease in localStorage (no Web Locks)';
element('signin').addEventListener('click', () => void signIn());
element('call').addEventListener('click', () => void callApi());
element('foreign').addEventListener('click', () => void callForeign());
element('signout').addEventListener('click', () => void signOut());
auth.subscribe(render);
setInterval(render, 250);
render();

declare global {
  interface Window {
    /** The page's actions, for the browser tests (the buttons call the same functions). */
    spa: {
      callApi: typeof callApi;
      callForeign: typeof callForeign;
      signIn: typeof signIn;
      signOut: typeof signOut;
      snapshot: () => ReturnType<typeof auth.getSnapshot>;
    };
  }
}
window.spa = { callApi, callForeign, signIn, signOut, snapshot: () => auth.getSnapshot() };
document.body.dataset.ready = 'true';
