export { ekaAuthMiddleware } from './ekaAuthMiddleware';
export type { WithEkaAuth } from './WithEkaAuth';
