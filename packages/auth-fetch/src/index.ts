export { type AuthFetchOptions, createAuthFetch } from './createAuthFetch';
export { installGlobalFetch } from './installGlobalFetch';
