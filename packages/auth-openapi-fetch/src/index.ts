export { type EkaAuthMiddlewareOptions, ekaAuthMiddleware } from './ekaAuthMiddleware';
export type { WithEkaAuth } from './WithEkaAuth';
