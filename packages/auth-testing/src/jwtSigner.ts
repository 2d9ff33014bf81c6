import { base64UrlDecode, base64UrlEncode } from './base64Url';

/** Signs and verifies HS256 JSON Web Tokens with one secret (Web Crypto only). */
export interface JwtSigner {
  /** A compact HS256 JWT carrying `claims`. */
  sign(claims: Record<string, unknown>): Promise<string>;
  /** The claims of `token` when it is a well-formed HS256 JWT signed with this secret, else `undefined`. */
  verify(token: string): Promise<Record<string, unknown> | undefined>;
}

const encoder = new TextEncoder();
const HEADER = base64UrlEncode(encoder.encode(JSON.stringify({ alg: 'HS256', typ: 'JWT' })));

/** A {@link JwtSigner} for `secret` (raw HMAC key bytes). */
export function createJwtSigner(secret: Uint8Array<ArrayBuffer>): JwtSigner {
  let key: Promise<CryptoKey> | undefined;
  const getKey = () =>
    (key ??= crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
      'verify',
    ]));
  return {
    async sign(claims) {
      const input = `${HEADER}.${base64UrlEncode(encoder.encode(JSON.stringify(claims)))}`;
      const signature = await crypto.subtle.sign('HMAC', await getKey(), encoder.encode(input));
      return `${input}.${base64UrlEncode(new Uint8Array(signature))}`;
    },
    async verify(token) {
      const [header, payload, signature, ...rest] = token.split('.');
      if (header === undefined || payload === undefined || signature === undefined || rest.length > 0) return;
      const signatureBytes = base64UrlDecode(signature);
      if (!signatureBytes || parseJson(base64UrlDecode(header))?.alg !== 'HS256') return;
      const valid = await crypto.subtle.verify(
        'HMAC',
        await getKey(),
        signatureBytes,
        encoder.encode(`${header}.${payload}`),
      );
      return valid ? parseJson(base64UrlDecode(payload)) : undefined;
    },
  };
}

/** The JSON object in `bytes`, or `undefined` when they are not one. */
function parseJson(bytes: Uint8Array | undefined): Record<string, unknown> | undefined {
  if (!bytes) return;
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return;
  }
}
