import { readFileSync } from 'node:fs';
import { createEkaAuth } from '@eka/auth-core';
import { startEkaGateway } from '@eka/auth-testing';
import createClient from 'openapi-fetch';
import openapiTS, { astToString } from 'openapi-typescript';
import { describe, expect, it } from 'vitest';
import { ekaAuthMiddleware, type WithEkaAuth } from '../src/index';
import type { paths } from './generated/authorization.generated';

const SPEC = new URL('../../auth-testing/openapi/authorization.openapi.yml', import.meta.url);
const GENERATED = new URL('./generated/authorization.generated.ts', import.meta.url);

describe('typed end to end', () => {
  it("the committed types are what openapi-typescript generates from Eka's OpenAPI file", async () => {
    const generated = astToString(await openapiTS(SPEC));
    const committed = readFileSync(GENERATED, 'utf8');
    expect(committed.slice(committed.indexOf('\n') + 1)).toBe(generated);
  });

  it('a typed call through the middleware: no auth headers to pass, 401 retried, typed result', async () => {
    const gateway = await startEkaGateway();
    const auth = createEkaAuth({
      clientId: gateway.credentials.clientId,
      clientSecret: gateway.credentials.clientSecret,
      baseUrl: gateway.url,
    });
    try {
      const client = createClient<WithEkaAuth<paths>>({ baseUrl: gateway.url });
      client.use(ekaAuthMiddleware(auth));
      const first = await client.DELETE('/privacy/v1/user');
      expect(first.response.status).toBe(202);
      gateway.control.revokeAllAccessTokens();
      const { response, error } = await client.DELETE('/privacy/v1/user');
      expect(response.status).toBe(202);
      expect(error).toBeUndefined();
      expect(gateway.stats.refreshes.ok).toBe(1);

      // Without WithEkaAuth, Eka's spec forces callers to pass the headers the middleware sets.
      const raw = createClient<paths>({ baseUrl: gateway.url });
      // @ts-expect-error params.header (Authorization, client-id) is required by the spec
      const untyped = () => raw.DELETE('/privacy/v1/user');
      expect(untyped).toBeTypeOf('function');
    } finally {
      auth.dispose();
      await gateway.close();
    }
  });
});
