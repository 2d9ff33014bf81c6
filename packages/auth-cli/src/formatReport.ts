import type { Diagnosis } from './diagnoseFailure';
import type { DoctorReport, DoctorStep } from './runDoctor';

/** ANSI styling, or none. */
export interface Palette {
  /** Success (green). */
  ok(text: string): string;
  /** Failure (red). */
  bad(text: string): string;
  /** Warning (yellow). */
  warn(text: string): string;
  /** Secondary detail (dim). */
  dim(text: string): string;
  /** Emphasis (bold). */
  bold(text: string): string;
}

const sgr = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;

/** Colours for a terminal (`colour: true`), or plain text. */
export function palette(colour: boolean): Palette {
  const plain = (text: string) => text;
  if (!colour) return { ok: plain, bad: plain, warn: plain, dim: plain, bold: plain };
  return { ok: sgr(32, 39), bad: sgr(31, 39), warn: sgr(33, 39), dim: sgr(2, 22), bold: sgr(1, 22) };
}

/** The human-readable doctor report (one string, ending in a newline). */
export function formatReport(report: DoctorReport, p: Palette): string {
  const lines: string[] = [];
  const origin = report.origin && report.origin !== report.baseUrl ? ` (origin ${report.origin})` : '';
  lines.push(p.bold(`eka-auth doctor: ${report.baseUrl}${origin}`));
  lines.push(`  client id      ${report.clientId}`);
  lines.push(`  sharing key    ${report.sharingKey ? 'given (not shown)' : 'none'}`);
  lines.push('');
  if (report.login) {
    lines.push(stepLine('login', report.login, p));
    if (report.login.ok) {
      lines.push(...lifetimeLines(report.login));
      const c = report.claims;
      if (c) {
        const parts = [
          c['c-id'] !== undefined && `c-id ${c['c-id']}`,
          c.iat !== undefined && `issued ${iso(c.iat)}`,
          c.exp !== undefined && `expires ${iso(c.exp)}`,
        ].filter(Boolean);
        lines.push(`    claims         ${parts.join(', ') || 'none of c-id, iat, exp'}`);
      } else {
        lines.push('    claims         not a JWT (opaque token)');
      }
      if (report.clockOffsetMs !== undefined) {
        const seconds = (report.clockOffsetMs / 1000).toFixed(1);
        lines.push(
          `    clock offset   ${report.clockOffsetMs >= 0 ? '+' : ''}${seconds} s ${p.dim('(gateway minus this machine, from its Date header, ±1 s)')}`,
        );
      } else {
        lines.push('    clock offset   unknown (no Date header)');
      }
    }
  }
  if (report.refresh) {
    lines.push(stepLine('refresh (v2)', report.refresh, p));
    if (report.refresh.ok) {
      lines.push(...lifetimeLines(report.refresh));
      lines.push(
        `    rotation       ${report.refresh.refreshTokenRotated ? 'new refresh token issued' : 'same refresh token kept'}`,
      );
    } else if (report.refresh.fallbackLogin) {
      lines.push(
        `    fallback       the library's login after the rejected refresh ${report.refresh.fallbackLogin === 'ok' ? 'worked' : 'failed'}`,
      );
    }
  }
  if (report.diagnoses.length) {
    lines.push('');
    for (const diagnosis of report.diagnoses) lines.push(...diagnosisLines(diagnosis, p));
  }
  if (report.requestIds.length) {
    lines.push('');
    lines.push('apigw-requestid for a support ticket:');
    for (const { step, status, requestId } of report.requestIds) {
      lines.push(`  ${step.padEnd(26)} ${requestId}${status === undefined ? '' : ` (HTTP ${status})`}`);
    }
  }
  lines.push('');
  lines.push(
    report.ok
      ? p.ok('OK: login and refresh v2 work.')
      : p.bad(`FAILED: ${report.login?.ok ? 'refresh v2 does not work.' : 'login does not work.'}`),
  );
  return `${lines.join('\n')}\n`;
}

/** A diagnosis as printed on stderr by `eka-auth token`, or in the doctor's text report. */
export function diagnosisLines(diagnosis: Diagnosis, p: Palette): string[] {
  const mark = diagnosis.severity === 'error' ? p.bad('✖') : p.warn('!');
  const request = diagnosis.requestId ? ` ${p.dim(`(apigw-requestid ${diagnosis.requestId})`)}` : '';
  return [
    `${mark} ${p.bold(diagnosis.id)}: ${diagnosis.summary}${request}`,
    `    next step: ${diagnosis.nextStep}`,
  ];
}

function stepLine(name: string, step: DoctorStep, p: Palette): string {
  const mark = step.ok ? p.ok('✔') : p.bad('✖');
  const facts = [
    step.status !== undefined ? `HTTP ${step.status}` : 'no HTTP answer',
    step.attempts > 1 && `${step.attempts} attempts`,
    step.code && step.code,
    step.requestId && `apigw-requestid ${step.requestId}`,
  ].filter(Boolean);
  const [first, ...rest] = facts;
  return `${mark} ${name.padEnd(15)}${[`${first}${step.durationMs !== undefined ? ` in ${step.durationMs} ms` : ''}`, ...rest].join(', ')}`;
}

function lifetimeLines(step: DoctorStep): string[] {
  const access =
    step.accessTokenLifetimeSec === undefined
      ? 'lifetime unknown (no expires_in, no JWT exp)'
      : `lifetime ${duration(step.accessTokenLifetimeSec)} (${step.accessTokenLifetimeFrom === 'jwt' ? 'JWT exp - iat' : 'expires_in'})`;
  const refresh = !step.refreshTokenIssued
    ? 'none issued'
    : step.refreshTokenLifetimeSec === undefined
      ? 'issued, lifetime unknown (no refresh_expires_in)'
      : `issued, lifetime ${duration(step.refreshTokenLifetimeSec)} (refresh_expires_in)`;
  return [`    access token   ${access}`, `    refresh token  ${refresh}`];
}

function duration(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${seconds} s (${Math.round(seconds / 60)} min)`;
  return `${seconds} s (${Math.round(seconds / 360) / 10} h)`;
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
