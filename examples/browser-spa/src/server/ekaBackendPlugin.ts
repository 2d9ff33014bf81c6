import { type EkaGateway, startEkaGateway } from '@eka/auth-testing';
import type { Plugin } from 'vite';
import { createTokenBackend, type Middleware } from './tokenBackend.ts';

/**
 * Mounts the token backend in `vite` (dev) and `vite preview`. With `EKA_CLIENT_ID` and
 * `EKA_CLIENT_SECRET` (and `EKA_BASE_URL`, default the sandbox) it talks to a real gateway; otherwise it
 * starts the Eka gateway emulator with 30-second tokens, so refreshes are easy to watch.
 */
export function ekaBackendPlugin(): Plugin {
  let gateway: EkaGateway | undefined;
  let backend: Promise<Middleware> | undefined;
  const start = async (): Promise<Middleware> => {
    const { EKA_CLIENT_ID, EKA_CLIENT_SECRET, EKA_BASE_URL } = process.env;
    if (EKA_CLIENT_ID && EKA_CLIENT_SECRET) {
      const gatewayUrl = EKA_BASE_URL ?? 'https://api.dev.eka.care';
      return createTokenBackend({
        gatewayUrl,
        clientId: EKA_CLIENT_ID,
        clientSecret: EKA_CLIENT_SECRET,
        publicConfig: { gatewayUrl },
      });
    }
    gateway = await startEkaGateway({ accessTokenTtlSec: 30 });
    console.log(`Eka gateway emulator on ${gateway.url} (30 s tokens)`);
    return createTokenBackend({
      gatewayUrl: gateway.url,
      clientId: gateway.credentials.clientId,
      clientSecret: gateway.credentials.clientSecret,
      publicConfig: { gatewayUrl: gateway.url, foreignUrl: gateway.foreignUrl },
    });
  };
  const mount = (server: {
    middlewares: { use(fn: Middleware): void };
    httpServer: { once(event: 'close', fn: () => void): unknown } | null;
  }) => {
    backend ??= start();
    server.middlewares.use((req, res, next) => void backend!.then((handle) => handle(req, res, next), next));
    server.httpServer?.once('close', () => void gateway?.close());
  };
  return { name: 'eka-token-backend', configureServer: mount, configurePreviewServer: mount };
}
