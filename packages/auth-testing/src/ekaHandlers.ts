import { type HttpHandler, HttpResponse, http } from 'msw';
import { createGatewayCore, DEFAULT_FOREIGN_URL } from './gatewayCore';
import type {
  EkaGatewayOptions,
  GatewayControl,
  GatewayCredentials,
  GatewayResult,
  GatewayStats,
} from './types';

/** Options of {@link ekaHandlers}. */
export interface EkaHandlersOptions extends EkaGatewayOptions {
  /** Origin the handlers answer for, e.g. `https://api.eka.care`. Only its origin is used. */
  baseUrl: string;
  /** Origin of the foreign host (redirect target, leak counter). Default `http://foreign.test`. */
  foreignUrl?: string;
}

/** msw handlers for the emulator, plus its stats and levers. */
export interface EkaHandlers {
  /** Pass to `setupServer(...handlers)` / `setupWorker(...handlers)` or `server.use(...handlers)`. */
  readonly handlers: HttpHandler[];
  /** Live statistics. */
  readonly stats: GatewayStats;
  /** Behaviour levers. */
  readonly control: GatewayControl;
  /** The credentials these handlers accept. */
  readonly credentials: GatewayCredentials;
}

/**
 * The Eka gateway emulator as msw 2 handlers: every request to `baseUrl`'s origin and to the foreign
 * origin is answered by the same core as {@link startEkaGateway}. `'reset'` failures become
 * `HttpResponse.error()` (a network error); `'hang'` answers only when the request is aborted.
 */
export function ekaHandlers(options: EkaHandlersOptions): EkaHandlers {
  const { baseUrl, foreignUrl = DEFAULT_FOREIGN_URL, ...behaviour } = options;
  const origin = new URL(baseUrl).origin;
  const foreignOrigin = new URL(foreignUrl).origin;
  if (origin === foreignOrigin) throw new TypeError('foreignUrl must be another origin than baseUrl');
  const core = createGatewayCore({ ...behaviour, foreignUrl: foreignOrigin });
  const handlers = [
    http.all(`${origin}/*`, async ({ request }) => toMsw(await core.handle(request), request.signal)),
    http.all(`${foreignOrigin}/*`, ({ request }) => core.handleForeign(request)),
  ];
  return { handlers, stats: core.stats, control: core.control, credentials: core.credentials };
}

/** Maps a core result to what an msw resolver returns. */
function toMsw(result: GatewayResult, signal: AbortSignal): Response | Promise<Response> {
  if (result === 'reset') return HttpResponse.error();
  if (result !== 'hang') return result;
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(HttpResponse.error());
    signal.addEventListener('abort', () => resolve(HttpResponse.error()), { once: true });
  });
}
