export { createEkaAuth, UNWRAPPED } from './createEkaAuth';
export {
  AbortError,
  ConfigError,
  CredentialsRejectedError,
  EkaAuthError,
  type EkaAuthErrorCode,
  type EkaAuthErrorDetails,
  InsecureUrlError,
  isEkaAuthError,
  LongLivedTokenRejectedError,
  NonReplayableBodyError,
  RefreshRejectedError,
  StorageError,
  TimeoutError,
  TransientError,
  UnauthorizedError,
} from './errors';
export { followRedirects } from './followRedirects';
export { MemoryStorage } from './MemoryStorage';
export { LOGIN_PATH, REFRESH_PATH } from './protocol';
export { parseStoredSession, storageKeyFor } from './session';
export { type MachineEvent, transition } from './transition';
export type {
  AuthDecision,
  AuthSnapshot,
  AuthState,
  ClientCredentialsOptions,
  CommonOptions,
  CustomLoginOptions,
  EkaAuth,
  EkaAuthEvent,
  EkaAuthOptions,
  HeaderMode,
  LoginContext,
  LoginResult,
  LongLivedTokenOptions,
  StoredSession,
  TokenRequestEvent,
  TokenRequestOutcome,
  TokenSet,
  TokenStorage,
  UnauthorizedOptions,
  UnauthorizedOutcome,
  WaitOptions,
} from './types';
export { isLoopback } from './url';
