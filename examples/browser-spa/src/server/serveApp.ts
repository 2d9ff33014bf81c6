import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import type { Middleware } from './tokenBackend.ts';

/** Options of {@link serveApp}. */
export interface ServeAppOptions {
  /** The built page (`vite build` output). */
  root: string;
  /** The token backend, mounted in front of the static files. */
  backend: Middleware;
  /** Origins the page may call besides its own (the Eka gateway …), for the Content-Security-Policy. */
  connectTo: string[];
  /** Port on 127.0.0.1. Default 0 (any free port). */
  port?: number;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
};

/**
 * A production-like server for the built page: the token backend plus static files, with a strict
 * Content-Security-Policy (tokens in web storage are only as safe as the page is from XSS).
 */
export async function serveApp(options: ServeAppOptions): Promise<{ url: string; close(): Promise<void> }> {
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ${options.connectTo.join(' ')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
  const root = normalize(options.root + sep);
  const server = createServer((req, res) => {
    options.backend(req, res, () => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
      const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
      if (!file.startsWith(root) || (req.method !== 'GET' && req.method !== 'HEAD')) {
        res.statusCode = 404;
        return void res.end();
      }
      readFile(file).then(
        (body) => {
          res.setHeader('content-type', TYPES[extname(file)] ?? 'application/octet-stream');
          res.setHeader('content-security-policy', csp);
          res.setHeader('x-content-type-options', 'nosniff');
          res.end(req.method === 'HEAD' ? undefined : body);
        },
        () => {
          res.statusCode = 404;
          res.end('not found');
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
