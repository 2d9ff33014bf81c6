export { DEMO_CREDENTIALS, type DemoCredentials } from './demoCredentials';
export { createGatewayCore, DEFAULT_FOREIGN_URL, EKA_UNAUTHORIZED_BODIES } from './gatewayCore';
export { type EkaGateway, type StartEkaGatewayOptions, startEkaGateway } from './startEkaGateway';
export { LOGIN_PATH, REFRESH_PATH, REFRESH_V1_PATH } from './tokenRoutes';
export type {
  AcceptHeader,
  EkaGatewayOptions,
  GatewayClient,
  GatewayControl,
  GatewayCore,
  GatewayCoreOptions,
  GatewayCredentials,
  GatewayResult,
  GatewayRoute,
  GatewayStats,
  InjectedFailure,
  InjectedHttpFailure,
  ProtocolViolation,
} from './types';
