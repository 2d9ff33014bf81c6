/** The claims of an access token that are safe to show: who it is for and when it was issued/expires. */
export interface PublicClaims {
  /** `c-id`: the client id the token was issued to. */
  'c-id'?: string;
  /** `iat`: issued at, epoch seconds. */
  iat?: number;
  /** `exp`: expiry, epoch seconds. */
  exp?: number;
  /** `nbf`: not before, epoch seconds. */
  nbf?: number;
  /** `iss`: issuer. */
  iss?: string;
}

const STRING_CLAIMS = ['c-id', 'iss'] as const;
const NUMBER_CLAIMS = ['iat', 'exp', 'nbf'] as const;

/**
 * The non-secret claims of a JWT (an allowlist: anything else it carries is left out), or `undefined`
 * for an opaque token. The signature is not checked: this is for display only.
 */
export function jwtClaims(token: string): PublicClaims | undefined {
  const payload = token.split('.');
  if (payload.length !== 3) return undefined;
  let claims: any;
  try {
    claims = JSON.parse(Buffer.from(payload[1]!, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!claims || typeof claims !== 'object') return undefined;
  const out: PublicClaims = {};
  for (const name of STRING_CLAIMS) {
    if (typeof claims[name] === 'string') out[name] = claims[name].slice(0, 100);
  }
  for (const name of NUMBER_CLAIMS) {
    if (typeof claims[name] === 'number' && Number.isFinite(claims[name])) out[name] = claims[name];
  }
  return out;
}
