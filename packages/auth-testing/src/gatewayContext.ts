import type { TokenStore } from './tokenStore';
import type { AcceptHeader, GatewayClient, GatewayStats } from './types';

/** Everything the route handlers share: resolved options, token store, stats and switches. */
export interface GatewayContext {
  /** Live statistics. */
  readonly stats: GatewayStats;
  /** Issued tokens. */
  readonly tokens: TokenStore;
  /** Accepted clients. */
  readonly clients: readonly GatewayClient[];
  /** Sharing key → workspace id. */
  readonly sharingKeys: ReadonlyMap<string, string>;
  /** Answer login with only `access_token`. */
  readonly minimalLoginResponse: boolean;
  /** Where API calls may carry the token. */
  readonly acceptHeader: AcceptHeader;
  /** Largest accepted buffered body. */
  readonly maxBodyBytes: number;
  /** Body of API 401 answers. */
  readonly unauthorizedBody: unknown;
  /** Origin of the foreign host. */
  readonly foreignUrl: string;
  /** Runtime switches flipped by `control`. */
  readonly flags: { alwaysUnauthorized: boolean };
  /** Records a protocol violation. */
  violation(route: string, problem: string): void;
}
