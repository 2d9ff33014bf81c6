export { redisStorage } from './redisStorage';
export type {
  RedisStorageOptions,
  RedisStorageWarning,
  RedisStorageWarningCode,
  RedisTokenStorage,
} from './types';
