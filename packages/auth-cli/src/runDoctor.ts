import {
  createEkaAuth,
  type EkaAuth,
  type EkaAuthErrorCode,
  isEkaAuthError,
  type TokenRequestEvent,
} from '@eka/auth-core';
import { configDiagnosis, type Diagnosis, diagnoseFailure } from './diagnoseFailure';
import { jwtClaims, type PublicClaims } from './jwtClaims';
import { type ObservedCall, type ObservedFetch, observeFetch } from './observeFetch';

/** Options of {@link runDoctor}. */
export interface DoctorOptions {
  /** `client_id`. */
  clientId: string;
  /** `client_secret`. Never part of the report. */
  clientSecret: string;
  /** Optional sharing key. Never part of the report (only whether one was given). */
  sharingKey?: string;
  /** Gateway base URL. Default `https://api.eka.care`. */
  baseUrl?: string;
  /** Timeout of one login/refresh call. Default 10 000 ms. */
  timeoutMs?: number;
  /** The fetch for the token calls. Default `globalThis.fetch`. */
  fetch?: typeof fetch;
}

/** How one step (login, or refresh v2) went. */
export interface DoctorStep {
  /** The step produced tokens. */
  ok: boolean;
  /** HTTP calls made (more than 1 when the library retried inside the step). */
  attempts: number;
  /** HTTP status of the last call, when the gateway answered. */
  status?: number;
  /** Latency of the last call in ms (request sent → body read). */
  durationMs?: number;
  /** `apigw-requestid` of the last call. */
  requestId?: string;
  /** With a failure: the library's error code. */
  code?: EkaAuthErrorCode;
  /** `expires_in` of the access token, seconds (else `exp - iat` of the JWT). */
  accessTokenLifetimeSec?: number;
  /** Where `accessTokenLifetimeSec` comes from. */
  accessTokenLifetimeFrom?: 'expires_in' | 'jwt';
  /** `refresh_expires_in`, seconds, when the gateway said. */
  refreshTokenLifetimeSec?: number;
  /** The answer carried a refresh token. */
  refreshTokenIssued?: boolean;
  /** Refresh only: the refresh token changed (rotation). */
  refreshTokenRotated?: boolean;
  /** Refresh only: after a rejected refresh, the library's fallback login worked. */
  fallbackLogin?: 'ok' | 'failed';
}

/** Everything `eka-auth doctor` found. JSON-able; contains no secret and no token. */
export interface DoctorReport {
  /** Login and refresh v2 both work. */
  ok: boolean;
  /** The base URL as given. */
  baseUrl: string;
  /** Its origin (what the library uses), when it parses. */
  origin?: string;
  /** The client id (not a secret). */
  clientId: string;
  /** Whether a sharing key was used (never the key). */
  sharingKey: boolean;
  /** Login with the client credentials; `null` when not attempted. */
  login: DoctorStep | null;
  /** Refresh v2 with the refresh token from login; `null` when not attempted. */
  refresh: DoctorStep | null;
  /** Non-secret claims of the access token from login, when it is a JWT. */
  claims?: PublicClaims;
  /** The gateway's clock minus this machine's, in ms, from the `Date` header (±1 s resolution). */
  clockOffsetMs?: number;
  /**
   * Every `apigw-requestid` seen, for a support ticket: `fallback-login` is the library's login after a
   * failed refresh; `login-without-sharing-key` the doctor's probe after a rejected sharing key.
   */
  requestIds: {
    /** Which call answered. */
    step: 'login' | 'refresh' | 'fallback-login' | 'login-without-sharing-key';
    /** Its HTTP status. */
    status?: number;
    /** Its `apigw-requestid`. */
    requestId: string;
  }[];
  /** Findings, errors first. */
  diagnoses: Diagnosis[];
}

/** A clock offset beyond this is reported. */
const CLOCK_WARNING_MS = 30_000;

/**
 * Checks an Eka integration end to end: logs in with the credentials, refreshes once with refresh v2,
 * and reports latency, lifetimes, the token's public claims, the gateway's clock offset and request
 * ids, with a plain diagnosis and next step for every failure. Never throws for a gateway failure (it
 * is in the report); makes one extra login without the sharing key when a login with one is rejected,
 * to tell a bad key from bad credentials.
 */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const baseUrl = options.baseUrl ?? 'https://api.eka.care';
  const timeoutMs = options.timeoutMs ?? 10_000;
  const report: DoctorReport = {
    ok: false,
    baseUrl,
    origin: undefined,
    clientId: options.clientId,
    sharingKey: options.sharingKey !== undefined,
    login: null,
    refresh: null,
    requestIds: [],
    diagnoses: [],
  };
  const observed = observeFetch(options.fetch);
  const probes: ObservedFetch[] = [];
  const probeIds: DoctorReport['requestIds'] = [];
  const redact = redactor(options, observed, probes);
  try {
    const url = new URL(baseUrl);
    report.origin = url.origin;
    if (url.pathname !== '/' || url.search) {
      report.diagnoses.push({
        id: 'base-url-path-ignored',
        severity: 'warning',
        step: 'config',
        summary: `The base URL has a path (${url.pathname}${url.search ? '?…' : ''}); only its origin ${url.origin} is used.`,
        nextStep: `Set EKA_BASE_URL to ${url.origin}.`,
      });
    }
  } catch {
    // The core refuses it below with a readable message.
  }
  let auth: EkaAuth;
  try {
    auth = createEkaAuth({ ...credentials(options), baseUrl, timeoutMs, fetch: observed.fetch });
  } catch (error) {
    report.diagnoses.unshift(configDiagnosis(error, redact));
    return report;
  }
  const check: Check = {
    auth,
    options,
    baseUrl,
    origin: report.origin!,
    timeoutMs,
    observed,
    events: [],
    report,
    probes,
    probeIds,
    redact,
    refreshFrom: Number.POSITIVE_INFINITY,
  };
  auth.onEvent((event) => {
    if (event.type === 'request') check.events.push(event);
  });
  try {
    if (await checkLogin(check)) await checkRefresh(check);
  } finally {
    auth.dispose();
  }
  observed.calls.forEach((call, index) => {
    if (!call.requestId || call.kind === 'other') return;
    const step = call.kind === 'login' && index >= check.refreshFrom ? 'fallback-login' : call.kind;
    report.requestIds.push({ step, status: call.status, requestId: redact(call.requestId) });
  });
  report.requestIds.push(...probeIds);
  report.diagnoses.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));
  report.ok =
    !!report.login?.ok && !!report.refresh?.ok && !report.diagnoses.some((d) => d.severity === 'error');
  return report;
}

/** Everything the two steps share. */
interface Check {
  auth: EkaAuth;
  options: DoctorOptions;
  baseUrl: string;
  origin: string;
  timeoutMs: number;
  observed: ObservedFetch;
  /** Every `request` event of the core. */
  events: TokenRequestEvent[];
  report: DoctorReport;
  /** Fetches of the sharing-key probe (their tokens are redacted too). */
  probes: ObservedFetch[];
  probeIds: DoctorReport['requestIds'];
  redact: (text: string) => string;
  /** Index of the first call of the refresh step (later logins are the library's fallback). */
  refreshFrom: number;
}

/** Step 1: login. Fills `report.login`, the claims and the clock offset; true when it worked. */
async function checkLogin(check: Check): Promise<boolean> {
  const { report, observed, origin, timeoutMs, redact } = check;
  const login = await step(observed, check.events, () => check.auth.login());
  const result = summarise(login.calls.filter((c) => c.kind === 'login'));
  report.login = result;
  result.ok = login.error === undefined;
  if (login.error) result.code = errorCode(login.error);
  const failed = firstFailure(login, 'login');
  if (failed) {
    let sharingKeyRejected = false;
    if (report.sharingKey && failed.code === 'CREDENTIALS_REJECTED' && !result.ok) {
      sharingKeyRejected = await loginWorksWithoutSharingKey(check);
    }
    const diagnosis = diagnoseFailure({ ...failed, origin, timeoutMs, sharingKeyRejected, redact });
    report.diagnoses.push(result.ok ? retried(diagnosis) : diagnosis);
  }
  const call = lastOk(login.calls);
  if (!result.ok || !call?.body) return false;
  const claims = observed.tokens.access.length ? jwtClaims(observed.tokens.access.at(-1)!) : undefined;
  if (claims) report.claims = claims;
  lifetimes(result, call.body, claims);
  if (call.dateMs !== undefined) {
    // The Date header is truncated to the second: its true time lies within [date, date + 1 s).
    const offset = call.dateMs + 500 - (call.startedAt + call.durationMs / 2);
    report.clockOffsetMs = Math.round(offset / 100) * 100;
    if (Math.abs(offset) > CLOCK_WARNING_MS) report.diagnoses.push(clockDiagnosis(offset));
  }
  return true;
}

/** Step 2: refresh v2 with the refresh token from login. Fills `report.refresh`. */
async function checkRefresh(check: Check): Promise<void> {
  const { report, observed, origin, timeoutMs, redact } = check;
  if (!report.login?.refreshTokenIssued) {
    report.diagnoses.push({
      id: 'no-refresh-token',
      severity: 'error',
      step: 'refresh',
      summary: 'Login answered without a refresh_token, so refresh v2 cannot be used.',
      nextStep:
        'The library still works (it logs in again at every expiry), but each renewal then sends the client ' +
        'secret. Ask Eka support (with the login’s apigw-requestid) whether this client should get refresh tokens.',
    });
    return;
  }
  const before = observed.tokens.refresh.at(-1);
  check.refreshFrom = observed.calls.length;
  // One refresh flight (with the core's own retries), not a wait for the back-off after it.
  const refreshOnce = () =>
    step(observed, check.events, () => check.auth.getAccessToken({ forceRefresh: true, maxWaitMs: 0 }));
  let refresh = await refreshOnce();
  const first = firstFailure(refresh, 'refresh');
  const refreshedOk = (run: StepRun) => {
    const last = run.calls.filter((c) => c.kind === 'refresh').at(-1);
    return !!last?.body?.hasAccessToken && last.status! < 300;
  };
  if (!refreshedOk(refresh) && first && isTransient(first.code) && refresh.error === undefined) {
    // After a transient refresh failure the library logs in rather than present a refresh token the
    // gateway may already have consumed. Try refresh v2 once more with the new session: a blip is then
    // a warning, not a broken refresh.
    const again = await refreshOnce();
    refresh = {
      error: again.error,
      calls: [...refresh.calls, ...again.calls],
      events: [...refresh.events, ...again.events],
    };
  }
  const refreshCalls = refresh.calls.filter((c) => c.kind === 'refresh');
  const result = summarise(refreshCalls);
  report.refresh = result;
  const refreshed = refreshCalls.at(-1);
  result.ok = refreshedOk(refresh);
  const failed = firstFailure(refresh, 'refresh');
  if (!result.ok) result.code = failed?.code ?? errorCode(refresh.error);
  if (result.ok && refreshed?.body) {
    lifetimes(result, refreshed.body, undefined);
    result.refreshTokenRotated = refreshed.body.hasRefreshToken && observed.tokens.refresh.at(-1) !== before;
  }
  if (!result.ok && refresh.calls.some((c) => c.kind === 'login')) {
    result.fallbackLogin = refresh.error === undefined ? 'ok' : 'failed';
  }
  if (failed) {
    const diagnosis = diagnoseFailure({ ...failed, origin, timeoutMs, redact });
    report.diagnoses.push(result.ok ? retried(diagnosis) : diagnosis);
  } else if (!result.ok) {
    report.diagnoses.push({
      id: 'refresh-rejected',
      severity: 'error',
      step: 'refresh',
      code: result.code,
      summary:
        'The library did not call refresh v2 after login (the refresh token counted as expired already).',
      nextStep:
        'Check this machine’s clock and refresh_expires_in, then report it to Eka support with the apigw-requestids.',
    });
  }
}

/** What happened on the wire and in the core while `work` ran. */
interface StepRun {
  error: unknown;
  calls: ObservedCall[];
  events: TokenRequestEvent[];
}

async function step(observed: ObservedFetch, events: TokenRequestEvent[], work: () => Promise<unknown>) {
  const callsFrom = observed.calls.length;
  const eventsFrom = events.length;
  let error: unknown;
  try {
    await work();
  } catch (cause) {
    error = cause;
  }
  return { error, calls: observed.calls.slice(callsFrom), events: events.slice(eventsFrom) } as StepRun;
}

/**
 * The first failed call of `kind` in a step, with the code the core gave it. Looking at the first one
 * (not the last) keeps the diagnosis about the real cause when the library retries inside a step.
 */
function firstFailure(run: StepRun, kind: 'login' | 'refresh') {
  const events = run.events.filter((e) => e.kind === kind);
  const calls = run.calls.filter((c) => c.kind === kind);
  const index = events.findIndex((e) => !e.ok);
  if (index >= 0) return { step: kind, code: events[index]!.code, call: calls[index] };
  // No event (the call never started, or the core failed before reporting): use the error itself.
  if (kind === 'login' && run.error !== undefined && events.length === 0) {
    return { step: kind, code: errorCode(run.error), call: calls[0] };
  }
  return undefined;
}

function summarise(calls: ObservedCall[]): DoctorStep {
  const last = calls.at(-1);
  const result: DoctorStep = { ok: false, attempts: calls.length };
  if (last?.status !== undefined) result.status = last.status;
  if (last) result.durationMs = last.durationMs;
  if (last?.requestId) result.requestId = last.requestId;
  return result;
}

const lastOk = (calls: ObservedCall[]) =>
  calls.filter((c) => c.kind === 'login' && c.body?.hasAccessToken && c.status! < 300).at(-1);

function lifetimes(
  target: DoctorStep,
  body: NonNullable<ObservedCall['body']>,
  claims: PublicClaims | undefined,
) {
  target.refreshTokenIssued = body.hasRefreshToken;
  if (body.expiresInSec !== undefined) {
    target.accessTokenLifetimeSec = body.expiresInSec;
    target.accessTokenLifetimeFrom = 'expires_in';
  } else if (claims?.exp !== undefined && claims.iat !== undefined) {
    target.accessTokenLifetimeSec = claims.exp - claims.iat;
    target.accessTokenLifetimeFrom = 'jwt';
  }
  if (body.refreshExpiresInSec !== undefined) target.refreshTokenLifetimeSec = body.refreshExpiresInSec;
}

/** Marks a failure the library retried past as a warning. */
function retried(diagnosis: Diagnosis): Diagnosis {
  return {
    ...diagnosis,
    severity: 'warning',
    summary: `A first attempt failed and a retry worked. ${diagnosis.summary}`,
  };
}

function credentials(options: DoctorOptions) {
  const { clientId, clientSecret, sharingKey } = options;
  return sharingKey === undefined ? { clientId, clientSecret } : { clientId, clientSecret, sharingKey };
}

/** Logs in once without the sharing key: true when that works (so the key is what was rejected). */
async function loginWorksWithoutSharingKey(check: Check): Promise<boolean> {
  const probe = observeFetch(check.options.fetch);
  check.probes.push(probe);
  const { clientId, clientSecret } = check.options;
  const { baseUrl, timeoutMs } = check;
  const auth = createEkaAuth({ clientId, clientSecret, baseUrl, timeoutMs, fetch: probe.fetch });
  // A listener makes the core report its warnings as events instead of on the console.
  auth.onEvent(() => {});
  try {
    await auth.login();
    return true;
  } catch {
    return false;
  } finally {
    auth.dispose();
    for (const call of probe.calls) {
      if (!call.requestId) continue;
      check.probeIds.push({
        step: 'login-without-sharing-key',
        status: call.status,
        requestId: call.requestId,
      });
    }
  }
}

function clockDiagnosis(offsetMs: number): Diagnosis {
  const seconds = Math.round(Math.abs(offsetMs) / 1000);
  return {
    id: 'clock-offset',
    severity: 'warning',
    step: 'clock',
    summary: `This machine’s clock is ${seconds} s ${offsetMs > 0 ? 'behind' : 'ahead of'} the gateway’s (from its Date header).`,
    nextStep:
      'Sync the clock (NTP). The library measures expiry from expires_in, so it keeps working, but JWT exp checks ' +
      'and TLS certificate checks depend on the clock.',
  };
}

const isTransient = (code: EkaAuthErrorCode | undefined) => code === 'TRANSIENT' || code === 'TIMEOUT';

function errorCode(error: unknown): EkaAuthErrorCode | undefined {
  return isEkaAuthError(error) ? error.code : undefined;
}

/** Replaces every secret and every token seen with `[redacted]` in gateway-supplied text. */
function redactor(options: DoctorOptions, observed: ObservedFetch, probes: ObservedFetch[]) {
  return (text: string): string => {
    const secrets = [options.clientSecret, options.sharingKey];
    for (const seen of [observed, ...probes]) secrets.push(...seen.tokens.access, ...seen.tokens.refresh);
    let out = text;
    for (const secret of secrets)
      if (secret && secret.length >= 4) out = out.split(secret).join('[redacted]');
    return out;
  };
}
