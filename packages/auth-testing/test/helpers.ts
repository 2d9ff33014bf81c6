import { onTestFinished } from 'vitest';
import {
  type EkaGateway,
  REFRESH_PATH,
  REFRESH_V1_PATH,
  type StartEkaGatewayOptions,
  startEkaGateway,
} from '../src';

/** The login route. */
export const LOGIN = '/connect-auth/v1/account/login';

/** Token endpoint answer. */
export interface TokenBody {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  refresh_expires_in: number;
}

/** Starts a gateway closed automatically when the current test finishes. */
export async function startGateway(options: StartEkaGatewayOptions = {}): Promise<EkaGateway> {
  const gateway = await startEkaGateway(options);
  onTestFinished(() => gateway.close());
  return gateway;
}

/** `RequestInit` for a JSON POST. */
export function postJson(body: unknown, headers: Record<string, string> = {}): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

/** Logs in with the demo client (plus `extra` body fields) and returns the 200 body. */
export async function login(gateway: EkaGateway, extra: Record<string, unknown> = {}): Promise<TokenBody> {
  const { clientId, clientSecret } = gateway.credentials;
  const res = await fetch(
    `${gateway.url}${LOGIN}`,
    postJson({ client_id: clientId, client_secret: clientSecret, ...extra }),
  );
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as TokenBody;
}

/** Calls the v2 (or v1) refresh endpoint with the protocol's headers and body. */
export function refresh(
  gateway: EkaGateway,
  tokens: Pick<TokenBody, 'access_token' | 'refresh_token'>,
  { v1 = false, headers }: { v1?: boolean; headers?: Record<string, string> } = {},
): Promise<Response> {
  const defaults = {
    authorization: `Bearer ${tokens.access_token}`,
    'client-id': gateway.credentials.clientId,
  };
  const body = { refresh_token: tokens.refresh_token, access_token: tokens.access_token };
  return fetch(`${gateway.url}${v1 ? REFRESH_V1_PATH : REFRESH_PATH}`, postJson(body, headers ?? defaults));
}

/** GET an API path with the token in the `auth` header (or `headers`). */
export function api(
  gateway: EkaGateway,
  path: string,
  init: RequestInit & { token?: string } = {},
): Promise<Response> {
  const { token, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (token !== undefined) headers.set('authorization', `Bearer ${token}`);
  return fetch(`${gateway.url}${path}`, { ...rest, headers });
}

/** The payload of a JWT (no verification). */
export function jwtPayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
}
