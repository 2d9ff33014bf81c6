export { type EkaAuthHooks, ekaAuthHooks, withEkaAuth } from './ekaAuthHooks';
