import { randomToken } from './base64Url';
import type { JwtSigner } from './jwtSigner';

/** A token pair as the login/refresh endpoints answer it. */
export interface IssuedTokens {
  /** The HS256 JWT access token. */
  accessToken: string;
  /** The opaque refresh token. */
  refreshToken: string;
  /** Access token lifetime, seconds. */
  expiresInSec: number;
  /** Refresh token lifetime, seconds. */
  refreshExpiresInSec: number;
  /** The `gen` claim of the access token. */
  generation: number;
}

/** What an access token stands for. */
export interface TokenIdentity {
  /** Issue sequence number; 0 for long-lived tokens. */
  generation: number;
  /** The client it was issued to (absent for long-lived tokens). */
  clientId?: string;
  /** The workspace it acts on, when issued through a sharing key. */
  workspace?: string;
}

/** Result of checking an access token on an API call. */
type AccessCheck = { ok: true; identity: TokenIdentity } | { ok: false; reason: string };

/** Result of presenting a refresh token. */
type RefreshCheck =
  | { ok: true; clientId: string; workspace: string | undefined }
  | { ok: false; reused: boolean; reason: string };

interface AccessRecord {
  clientId: string;
  workspace: string | undefined;
  generation: number;
  expiresAtMs: number;
}

interface RefreshRecord {
  clientId: string;
  workspace: string | undefined;
  expiresAtMs: number;
  state: 'live' | 'used' | 'revoked';
}

/** Settings of {@link createTokenStore}. */
export interface TokenStoreOptions {
  /** Signs and verifies access tokens. */
  signer: JwtSigner;
  /** Current time, epoch ms (read on every call, so it can be swapped). */
  now: () => number;
  /** Access token lifetime, seconds. */
  accessTokenTtlSec: number;
  /** Refresh token lifetime, seconds. */
  refreshTokenTtlSec: number;
  /** Long-lived tokens accepted until revoked. */
  longLivedTokens: readonly string[];
}

/** Issues, checks, rotates and revokes tokens. */
export interface TokenStore {
  /** Issues a new pair with the next generation number. */
  issue(clientId: string, workspace: string | undefined): Promise<IssuedTokens>;
  /** Checks an access token for an API call: signature, issued here, not revoked, not expired. */
  checkAccess(token: string): Promise<AccessCheck>;
  /** Who an access token issued here belongs to, expired or revoked or not; `undefined` if not ours. */
  identify(token: string): Promise<TokenIdentity | undefined>;
  /** Consumes a refresh token for `clientId` (synchronously: two concurrent uses cannot both win). */
  consumeRefresh(refreshToken: string, clientId: string | undefined): RefreshCheck;
  /** Revokes every access token issued so far. */
  revokeAccess(): void;
  /** Expires every access token issued so far. */
  expireAccess(): void;
  /** Revokes every refresh token issued so far. */
  revokeRefresh(): void;
  /** Revokes the long-lived tokens. */
  revokeLongLived(): void;
}

/** A {@link TokenStore} holding its records in memory. */
export function createTokenStore(options: TokenStoreOptions): TokenStore {
  const access = new Map<string, AccessRecord>();
  const refresh = new Map<string, RefreshRecord>();
  const longLived = new Set(options.longLivedTokens);
  let generation = 0;
  let revokedUpTo = 0;
  let expiredUpTo = 0;

  const lookup = async (token: string): Promise<AccessRecord | undefined> => {
    const claims = await options.signer.verify(token);
    return typeof claims?.jti === 'string' ? access.get(claims.jti) : undefined;
  };

  return {
    async issue(clientId, workspace) {
      const gen = ++generation;
      const nowMs = options.now();
      const iat = Math.floor(nowMs / 1000);
      const jti = randomToken(16);
      const expiresAtMs = nowMs + options.accessTokenTtlSec * 1000;
      access.set(jti, { clientId, workspace, generation: gen, expiresAtMs });
      const claims = { iat, exp: iat + options.accessTokenTtlSec, 'c-id': clientId, jti, gen };
      const accessToken = await options.signer.sign(
        workspace === undefined ? claims : { ...claims, ws: workspace },
      );
      const refreshToken = randomToken(32);
      const refreshExpiresAtMs = nowMs + options.refreshTokenTtlSec * 1000;
      refresh.set(refreshToken, { clientId, workspace, expiresAtMs: refreshExpiresAtMs, state: 'live' });
      const ttl = {
        expiresInSec: options.accessTokenTtlSec,
        refreshExpiresInSec: options.refreshTokenTtlSec,
      };
      return { accessToken, refreshToken, generation: gen, ...ttl };
    },
    async checkAccess(token) {
      if (longLived.has(token)) return { ok: true, identity: { generation: 0 } };
      const record = await lookup(token);
      if (!record) return { ok: false, reason: 'unknown token' };
      if (record.generation <= revokedUpTo) return { ok: false, reason: 'revoked' };
      if (record.generation <= expiredUpTo || options.now() >= record.expiresAtMs) {
        return { ok: false, reason: 'expired' };
      }
      return { ok: true, identity: identityOf(record) };
    },
    async identify(token) {
      const record = await lookup(token);
      return record && identityOf(record);
    },
    consumeRefresh(refreshToken, clientId) {
      const record = refresh.get(refreshToken);
      const problem = refreshProblem(record, clientId, options.now());
      if (problem) return problem;
      record!.state = 'used';
      return { ok: true, clientId: record!.clientId, workspace: record!.workspace };
    },
    revokeAccess: () => {
      revokedUpTo = generation;
    },
    expireAccess: () => {
      expiredUpTo = generation;
    },
    revokeRefresh: () => {
      for (const record of refresh.values()) if (record.state === 'live') record.state = 'revoked';
    },
    revokeLongLived: () => longLived.clear(),
  };
}

/** The public identity of an access record. */
function identityOf(record: AccessRecord): TokenIdentity {
  const identity: TokenIdentity = { generation: record.generation, clientId: record.clientId };
  if (record.workspace !== undefined) identity.workspace = record.workspace;
  return identity;
}

/** Why a refresh token cannot be used now, or `undefined` when it can. */
function refreshProblem(
  record: RefreshRecord | undefined,
  clientId: string | undefined,
  nowMs: number,
): Extract<RefreshCheck, { ok: false }> | undefined {
  if (!record) return { ok: false, reused: false, reason: 'invalid refresh token' };
  if (record.state === 'used') return { ok: false, reused: true, reason: 'refresh token reused' };
  if (record.state === 'revoked') return { ok: false, reused: false, reason: 'refresh token revoked' };
  if (clientId !== undefined && record.clientId !== clientId) {
    return { ok: false, reused: false, reason: 'refresh token belongs to another client' };
  }
  if (nowMs >= record.expiresAtMs) return { ok: false, reused: false, reason: 'refresh token expired' };
  return undefined;
}
