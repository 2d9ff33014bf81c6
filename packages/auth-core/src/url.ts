import { InsecureUrlError } from './errors';

/** True for hosts that never leave this machine: localhost, 127.0.0.0/8 and ::1. */
export function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/**
 * Parse `value` and return its origin, refusing anything but https (plain http only to loopback).
 * Throws {@link InsecureUrlError}.
 */
export function secureOrigin(value: string, what: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InsecureUrlError('INSECURE_URL', `${what} is not an absolute URL`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) {
    throw new InsecureUrlError(
      'INSECURE_URL',
      `${what} must use https (plain http only on loopback): ${url.origin}`,
    );
  }
  return url.origin;
}

/**
 * Build the allowlist check. The fast path is a prefix test on normalised absolute URLs
 * (`origin` followed by `/` or the end); anything else is parsed with `URL` and compared by origin.
 */
export function originMatcher(origins: readonly string[]): (url: string | URL) => boolean {
  return (url) => {
    const href = typeof url === 'string' ? url : url.href;
    for (const origin of origins) {
      if (href.startsWith(origin)) {
        const next = href.charCodeAt(origin.length);
        if (next === 47 /* / */ || Number.isNaN(next)) return true;
      }
    }
    try {
      return origins.includes(new URL(href).origin);
    } catch {
      return false;
    }
  };
}
