import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { GatewayResult } from './types';

/** A web-standard handler: a `Response`, or `'reset'` / `'hang'` instructions. */
export type WebHandler = (request: Request) => GatewayResult | Promise<GatewayResult>;

/** A running loopback server. */
export interface WebServer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Stops listening and destroys every connection (hanging ones included). Idempotent, fast. */
  close(): Promise<void>;
}

/**
 * Serves `handler` over node:http on 127.0.0.1:`port` (0 = any free port). Node requests become
 * web `Request`s whose `signal` aborts when the client goes away; `'reset'` destroys the socket and
 * `'hang'` leaves the request unanswered until the client or {@link WebServer.close} ends it.
 */
export async function listenWeb(handler: WebHandler, port: number): Promise<WebServer> {
  const sockets = new Set<Socket>();
  const state = { origin: '' };
  const server = createServer((req, res) => {
    serve(handler, state.origin, req, res).catch(() => res.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', () => undefined);
  state.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let closing: Promise<void> | undefined;
  return { url: state.origin, close: () => (closing ??= closeServer(server, sockets)) };
}

/** Closes `server`, destroying every open socket so nothing keeps it alive. */
function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    for (const socket of sockets) socket.destroy();
    server.closeAllConnections();
  });
}

/** Runs one node request through `handler`; never throws. */
async function serve(handler: WebHandler, origin: string, req: IncomingMessage, res: ServerResponse) {
  let result: GatewayResult;
  try {
    result = await handler(toWebRequest(origin, req, res));
  } catch {
    result = new Response(JSON.stringify({ code: 400, error: 'malformed request' }), {
      status: 400,
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
  }
  if (result === 'reset') {
    req.socket.destroy();
    return;
  }
  if (result === 'hang') return;
  await writeWebResponse(res, result).catch(() => res.destroy());
  if (!req.complete) discardBody(req);
}

/** The web `Request` for a node request; its signal aborts if the client leaves before the answer. */
function toWebRequest(origin: string, req: IncomingMessage, res: ServerResponse): Request {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  const method = req.method ?? 'GET';
  const body = method === 'GET' || method === 'HEAD' ? null : nodeBodyStream(req);
  const init = { method, headers, body, signal: controller.signal, duplex: 'half' };
  return new Request(`${origin}${req.url ?? '/'}`, init as RequestInit);
}

/** Throws away whatever is left of a request body so the connection can serve the next request. */
function discardBody(req: IncomingMessage): void {
  req.removeAllListeners('data');
  req.resume();
}

/**
 * A pull-based web stream over a node request body: nothing flows until the handler reads, so an
 * unread body is left to node's own clean-up, and a cancelled one is discarded.
 */
function nodeBodyStream(req: IncomingMessage): ReadableStream<Uint8Array> {
  let settled = false;
  let attached = false;
  const settle = (fn: () => void) => {
    if (settled) return;
    settled = true;
    try {
      fn();
    } catch {
      // The consumer cancelled first; nothing to tell it.
    }
  };
  const attach = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    attached = true;
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      controller.enqueue(new Uint8Array(chunk));
      req.pause();
    });
    req.once('end', () => settle(() => controller.close()));
    req.once('error', (error) => settle(() => controller.error(error)));
    req.once('close', () => settle(() => controller.error(new Error('request aborted'))));
  };
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (!attached) attach(controller);
        req.resume();
      },
      cancel() {
        settled = true;
        discardBody(req);
      },
    },
    { highWaterMark: 0 },
  );
}

/** Writes a web `Response` to a node response. */
async function writeWebResponse(res: ServerResponse, response: Response): Promise<void> {
  const body = response.body ? new Uint8Array(await response.arrayBuffer()) : undefined;
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  if (body) headers['content-length'] = String(body.byteLength);
  res.writeHead(response.status, headers);
  res.end(body);
}
