import type { StoredSession, TokenSet } from './types';

/**
 * Storage key for a credential: client id, a short hash of the sharing key (never the key itself),
 * and the gateway's origin unless it is Eka's production gateway — so staging and production sessions
 * of one client id never share a stored token.
 */
export function storageKeyFor(
  clientId: string | undefined,
  sharingKey: string | undefined,
  baseUrl?: string,
): string {
  const origin = baseUrl && new URL(baseUrl).origin;
  return `eka-auth:${clientId ?? 'custom'}${sharingKey ? `:${hash(sharingKey)}` : ''}${
    origin && origin !== DEFAULT_BASE_URL ? `@${origin}` : ''
  }`;
}

/** Eka's production gateway, the default `baseUrl`. */
export const DEFAULT_BASE_URL = 'https://api.eka.care';

/** A 53-bit string hash (cyrb53): enough to keep workspaces apart, reveals nothing useful. */
function hash(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}

/** The versioned JSON written to storage. */
export function toStoredSession(tokens: TokenSet): StoredSession {
  return { v: 1, ...tokens };
}

/** Validate a stored value (possibly a JSON string); `null` for absent or corrupt data. */
export function parseStoredSession(raw: unknown): TokenSet | null {
  let value: any = raw;
  try {
    if (typeof raw === 'string') value = JSON.parse(raw);
  } catch {
    return null;
  }
  const { accessToken, refreshToken, expiresAt, refreshExpiresAt, obtainedAt } = value ?? {};
  return value?.v === 1 &&
    accessToken &&
    typeof accessToken === 'string' &&
    (refreshToken === undefined || typeof refreshToken === 'string') &&
    [expiresAt, refreshExpiresAt, obtainedAt].every((n) => n === undefined || Number.isFinite(n))
    ? { accessToken, refreshToken, expiresAt, refreshExpiresAt, obtainedAt }
    : null;
}
