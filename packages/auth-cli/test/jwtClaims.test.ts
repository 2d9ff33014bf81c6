import { describe, expect, it } from 'vitest';
import { jwtClaims } from '../src/jwtClaims';

const base64Url = (text: string) => Buffer.from(text).toString('base64url');
const jwt = (claims: unknown) =>
  `${base64Url('{"alg":"HS256"}')}.${base64Url(JSON.stringify(claims))}.signature`;

describe('jwtClaims', () => {
  it('keeps only the allowlisted claims', () => {
    const token = jwt({ 'c-id': 'client', iat: 10, exp: 1810, jti: 'unique', ws: 'workspace', pii: 'x' });
    expect(jwtClaims(token)).toEqual({ 'c-id': 'client', iat: 10, exp: 1810 });
  });

  it('ignores claims of the wrong type', () => {
    expect(jwtClaims(jwt({ 'c-id': 42, exp: 'soon', iss: 'eka' }))).toEqual({ iss: 'eka' });
  });

  it.each(['opaque-token', 'a.b', 'a.!!!.c', jwt('a string')])('returns undefined for %s', (token) => {
    expect(jwtClaims(token)).toBeUndefined();
  });
});
