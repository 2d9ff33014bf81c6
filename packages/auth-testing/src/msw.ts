export { type EkaHandlers, type EkaHandlersOptions, ekaHandlers } from './ekaHandlers';
