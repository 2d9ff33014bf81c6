import { createGatewayCore } from './gatewayCore';
import { listenWeb, type WebServer } from './listenWeb';
import type {
  EkaGatewayOptions,
  GatewayControl,
  GatewayCore,
  GatewayCredentials,
  GatewayStats,
} from './types';

/** Options of {@link startEkaGateway}. */
export interface StartEkaGatewayOptions extends EkaGatewayOptions {
  /** Port of the gateway on 127.0.0.1. Default `0` (any free port). The foreign origin always uses a free port. */
  port?: number;
}

/** A running Eka gateway emulator plus its foreign origin. */
export interface EkaGateway {
  /** Base URL of the gateway, e.g. `http://127.0.0.1:50123` (no trailing slash). */
  readonly url: string;
  /** Base URL of the foreign origin (another port: another origin). Its `/landing` counts token leaks. */
  readonly foreignUrl: string;
  /** Live statistics. */
  readonly stats: GatewayStats;
  /** Behaviour levers. */
  readonly control: GatewayControl;
  /** The credentials this gateway accepts (the demo ones unless configured). */
  readonly credentials: GatewayCredentials;
  /** Stops both servers and destroys open connections, hanging ones included. Idempotent, fast. */
  close(): Promise<void>;
}

/**
 * Starts the Eka gateway emulator on a real loopback HTTP server (127.0.0.1), plus a second
 * server acting as a foreign origin for redirect/leak tests.
 *
 * @example
 * const gateway = await startEkaGateway();
 * const res = await fetch(`${gateway.url}/connect-auth/v1/account/login`, { method: 'POST', ... });
 * await gateway.close();
 */
export async function startEkaGateway(options: StartEkaGatewayOptions = {}): Promise<EkaGateway> {
  const { port = 0, ...behaviour } = options;
  let core: GatewayCore | undefined;
  const foreign = await listenWeb((request) => core?.handleForeign(request) ?? 'reset', 0);
  let main: WebServer;
  try {
    const ready = createGatewayCore({ ...behaviour, foreignUrl: foreign.url });
    core = ready;
    main = await listenWeb((request) => ready.handle(request), port);
  } catch (error) {
    await foreign.close();
    throw error;
  }
  const close = async () => {
    await Promise.all([main.close(), foreign.close()]);
  };
  const { stats, control, credentials } = core;
  return { url: main.url, foreignUrl: foreign.url, stats, control, credentials, close };
}
