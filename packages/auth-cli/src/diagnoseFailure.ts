import { type EkaAuthErrorCode, isEkaAuthError } from '@eka/auth-core';
import type { ObservedCall } from './observeFetch';

/** Every diagnosis the doctor can make. Stable: scripts may match on them. */
export type DiagnosisId =
  | 'credentials-rejected'
  | 'sharing-key-rejected'
  | 'refresh-rejected'
  | 'no-refresh-token'
  | 'network-dns'
  | 'network-tls'
  | 'network-connection'
  | 'timeout'
  | 'rate-limited'
  | 'gateway-error'
  | 'not-eka-gateway'
  | 'redirected'
  | 'insecure-url'
  | 'config-invalid'
  | 'cache-locked'
  | 'clock-offset'
  | 'base-url-path-ignored';

/** A finding in plain words, with what to do about it. Never contains a secret. */
export interface Diagnosis {
  /** Stable identifier, e.g. `credentials-rejected`. */
  id: DiagnosisId;
  /** `error`: this breaks the integration (exit 1). `warning`: works, but worth fixing. */
  severity: 'error' | 'warning';
  /** Which part of the check found it. */
  step: 'config' | 'login' | 'refresh' | 'clock';
  /** What happened. */
  summary: string;
  /** What to do next. */
  nextStep: string;
  /** HTTP status of the answer concerned, if any. */
  status?: number;
  /** `apigw-requestid` of the answer concerned, for a support ticket. */
  requestId?: string;
  /** The library's error code, if any (`CREDENTIALS_REJECTED`, `TRANSIENT`, …). */
  code?: EkaAuthErrorCode;
}

/** What is known about one failed login/refresh call. */
export interface FailedCall {
  /** Which call failed. */
  step: 'login' | 'refresh';
  /** The error code the core reported for it. */
  code: EkaAuthErrorCode | undefined;
  /** What the wire showed (absent when the call never reached fetch). */
  call: ObservedCall | undefined;
  /** The gateway origin. */
  origin: string;
  /** The per-call timeout in force. */
  timeoutMs: number;
  /** Login was rejected with the sharing key but works without it. */
  sharingKeyRejected?: boolean;
  /** Removes secrets and tokens from gateway-supplied text. */
  redact: (text: string) => string;
}

const ENVIRONMENTS = 'production https://api.eka.care, sandbox https://api.dev.eka.care';
const DNS_CODES = ['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA'];
const TLS = /CERT|SSL|TLS|UNABLE_TO_VERIFY|SELF_SIGNED|UNABLE_TO_GET_ISSUER/i;

/** The diagnosis of one failed login or refresh call: what went wrong and the next step. */
export function diagnoseFailure(failure: FailedCall): Diagnosis {
  const { step, call, code, origin } = failure;
  const status = call?.status;
  const finding = (id: DiagnosisId, summary: string, nextStep: string): Diagnosis => ({
    id,
    severity: 'error',
    step,
    summary,
    nextStep,
    status,
    requestId: call?.requestId,
    code,
  });
  const what = step === 'login' ? 'login' : 'refresh (v2)';
  if (code === 'TIMEOUT' || call?.aborted) {
    return finding(
      'timeout',
      `The ${what} call got no answer from ${origin} within ${failure.timeoutMs} ms.`,
      'Check the network path to the gateway (proxy, firewall, VPN) and try again; on a slow link raise ' +
        '--timeout-ms (EKA_TIMEOUT_MS).',
    );
  }
  if (call?.network || (code === 'TRANSIENT' && status === undefined)) {
    const { id, summary, nextStep } = diagnoseNetwork(call?.network, origin, what, failure.redact);
    return finding(id, summary, nextStep);
  }
  const said = gatewaySays(call, failure.redact);
  if (status !== undefined && status >= 300 && status < 400) {
    const to = call?.location ? ` to ${failure.redact(call.location)}` : '';
    return finding(
      'redirected',
      `The ${what} call was answered with a redirect (HTTP ${status})${to}.`,
      'Set EKA_BASE_URL to the origin the gateway really answers on (token calls never follow a redirect: ' +
        `the secret would go along). Known gateways: ${ENVIRONMENTS}.`,
    );
  }
  if (status === 429) {
    const after = call?.retryAfter ? ` (Retry-After: ${failure.redact(call.retryAfter)})` : '';
    return finding(
      'rate-limited',
      `Eka rate-limited the ${what} call: HTTP 429${after}.`,
      `Wait${call?.retryAfter ? ' as long as Retry-After says' : ' a minute'} and try again. If it recurs, look ` +
        'for a loop or many processes logging in: share one session (`eka-auth token` caches it; ' +
        '@eka/auth-storage-redis shares one across a fleet).',
    );
  }
  const rejected = code === 'CREDENTIALS_REJECTED' || code === 'REFRESH_REJECTED';
  const notJson =
    call?.notJson || (status !== undefined && status >= 200 && status < 300 && !call?.body?.hasAccessToken);
  if ((rejected && (status === 404 || status === 405)) || (notJson && status !== undefined && status < 500)) {
    return finding(
      'not-eka-gateway',
      `${origin} answered the ${what} call with HTTP ${status}` +
        `${call?.notJson ? ` and a non-JSON body (${call.contentType ?? 'no content-type'})` : ' and no access_token'}: ` +
        'it does not look like Eka’s gateway.',
      `Check EKA_BASE_URL (${ENVIRONMENTS}); a proxy in between can also answer like this.`,
    );
  }
  if (rejected && step === 'login' && failure.sharingKeyRejected) {
    return finding(
      'sharing-key-rejected',
      `Eka rejected the login with the sharing key (HTTP ${status}${said}); without it, the same credentials log in.`,
      'Ask the owner of the other workspace for a current sharing key (created in the Eka Hub; keys can be ' +
        'revoked), check EKA_SHARING_KEY for stray spaces, or unset it to act on your own workspace.',
    );
  }
  if (rejected && step === 'login') {
    const quirk =
      status === 500 && call?.body?.code === 400
        ? ' — HTTP 500 with body code 400 is how Eka answers invalid credentials'
        : '';
    return finding(
      'credentials-rejected',
      `Eka rejected the client credentials (HTTP ${status}${said}${quirk}).`,
      'Check EKA_CLIENT_ID and EKA_CLIENT_SECRET in the Eka Developer Console (no stray spaces or quotes), ' +
        `and that they belong to this gateway: sandbox credentials work only on the sandbox (${ENVIRONMENTS}).`,
    );
  }
  if (rejected) {
    return finding(
      'refresh-rejected',
      `Eka rejected refresh v2 right after a successful login (HTTP ${status}${said}).`,
      'Sessions still work — the library logs in again when a refresh is rejected — but every expiry then ' +
        'costs a login. Send the apigw-requestid to Eka support, and make sure nothing else presents the same ' +
        'refresh token (a retrying proxy, another process with a copy of the session).',
    );
  }
  const page = call?.notJson ? `, a non-JSON body (${call.contentType ?? 'no content-type'})` : '';
  return finding(
    'gateway-error',
    `Eka’s gateway failed the ${what} call: HTTP ${status ?? 'unknown'}${said}${page}.`,
    'Usually temporary: try again in a minute. If it persists, send the apigw-requestid to Eka support.' +
      (call?.notJson
        ? ' An HTML page instead of JSON points at a proxy or load balancer between you and Eka.'
        : ''),
  );
}

/** The diagnosis of options the core refused (`INSECURE_URL`, `CONFIG_INVALID`). */
export function configDiagnosis(error: unknown, redact: (text: string) => string): Diagnosis {
  const message = redact(error instanceof Error ? error.message : String(error));
  if (isEkaAuthError(error, 'INSECURE_URL')) {
    return {
      id: 'insecure-url',
      severity: 'error',
      step: 'config',
      code: 'INSECURE_URL',
      summary: `The base URL was refused: ${message}. Plain http would send the client secret in clear text.`,
      nextStep:
        'Use an https base URL: production https://api.eka.care, sandbox https://api.dev.eka.care ' +
        '(plain http is allowed only to localhost, for tests).',
    };
  }
  return {
    id: 'config-invalid',
    severity: 'error',
    step: 'config',
    code: isEkaAuthError(error) ? error.code : undefined,
    summary: `The configuration was refused: ${message}.`,
    nextStep: 'Fix the value named above (flags or EKA_* environment variables) and run again.',
  };
}

function diagnoseNetwork(
  network: ObservedCall['network'],
  origin: string,
  what: string,
  redact: (text: string) => string,
): Pick<Diagnosis, 'id' | 'summary' | 'nextStep'> {
  const detail = network ? ` (${[network.code, redact(network.message)].filter(Boolean).join(': ')})` : '';
  const host = safeHost(origin);
  if (network?.code && DNS_CODES.includes(network.code)) {
    return {
      id: 'network-dns',
      summary: `The ${what} call failed: the host name ${host} could not be resolved${detail}.`,
      nextStep: `Check EKA_BASE_URL for typos (${ENVIRONMENTS}) and this machine’s DNS and proxy settings.`,
    };
  }
  if (network && (TLS.test(network.code ?? '') || /certificate|ssl|tls/i.test(network.message))) {
    return {
      id: 'network-tls',
      summary: `The ${what} call failed: the TLS connection to ${origin} could not be set up${detail}.`,
      nextStep:
        'If a corporate proxy inspects TLS, give Node its CA (NODE_EXTRA_CA_CERTS=/path/to/ca.pem); check the ' +
        'system clock (certificates have dates) and that EKA_BASE_URL is https on the right host and port.',
    };
  }
  return {
    id: 'network-connection',
    summary: `The ${what} call failed: no HTTP answer from ${origin}${detail}.`,
    nextStep:
      'Check that this machine can reach the gateway (firewall, VPN, proxy: Node’s built-in fetch ignores ' +
      'HTTPS_PROXY unless told otherwise) and try again.',
  };
}

function gatewaySays(call: ObservedCall | undefined, redact: (text: string) => string): string {
  const parts: string[] = [];
  if (call?.body?.message) parts.push(`"${redact(call.body.message)}"`);
  if (call?.body?.code !== undefined) parts.push(`code ${call.body.code}`);
  return parts.length ? `, ${parts.join(', ')}` : '';
}

function safeHost(origin: string): string {
  try {
    return new URL(origin).host;
  } catch {
    return origin;
  }
}
