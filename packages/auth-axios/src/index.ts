export { attachEkaAuth } from './attachEkaAuth';
