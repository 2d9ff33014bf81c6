import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A registry on loopback that knows no package (404 for every read) and accepts no write: enough for
 * `pnpm -r publish --dry-run`, which asks the registry which versions already exist. Offline and
 * deterministic, whatever is (or will be) published under the scope on npmjs.com.
 */
export async function startEmptyRegistry() {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    requests.push(`${request.method} ${decodeURIComponent(request.url ?? '')}`);
    const status = request.method === 'GET' || request.method === 'HEAD' ? 404 : 405;
    response.writeHead(status, { 'content-type': 'application/json' }).end('{"error":"Not found"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
