import { describe, expect, it } from 'vitest';
import { startEkaGateway } from '../src';
import { login, startGateway } from './helpers';

describe('startEkaGateway', () => {
  it('listens on 127.0.0.1 with a foreign origin on another port', async () => {
    const gateway = await startGateway();
    const main = new URL(gateway.url);
    const foreign = new URL(gateway.foreignUrl);
    expect([main.hostname, foreign.hostname]).toEqual(['127.0.0.1', '127.0.0.1']);
    expect(main.port).not.toBe(foreign.port);
    expect(gateway.url.endsWith('/')).toBe(false);
    expect(await (await fetch(`${gateway.foreignUrl}/anything`)).json()).toMatchObject({ foreign: true });
  });

  it('rejects when the port is taken, and leaves nothing running', async () => {
    const gateway = await startGateway();
    const port = Number(new URL(gateway.url).port);
    await expect(startEkaGateway({ port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('refuses invalid options before listening', async () => {
    await expect(startEkaGateway({ accessTokenTtlSec: -1 })).rejects.toThrow(TypeError);
  });

  it('closes fast and idempotently with keep-alive connections and pending requests open', async () => {
    const gateway = await startEkaGateway();
    const { access_token } = await login(gateway);
    const pending = fetch(`${gateway.url}/api/slow?ms=10000`, { headers: { auth: access_token } }).catch(
      () => 'failed',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await Promise.all([gateway.close(), gateway.close()]);
    await gateway.close();
    expect(Date.now() - started).toBeLessThan(5_000); // not the hanging request's 10 s
    expect(await pending).toBe('failed');
    await expect(fetch(`${gateway.url}/api/echo`)).rejects.toThrow(TypeError);
  });
});
