import { describe, expect, it } from 'vitest';
import { clients } from '../scenario/clients.mjs';
import { REPLAY_BODY, STORM_SIZE } from '../scenario/runScenarios.mjs';
import { checkResult } from '../src/checkResult.mjs';
import { requiredNodeMajor, runClient } from '../src/runClient.mjs';

// One child process per client runs every scenario against fresh emulators (on the Node the client's
// `engines` ask for); each `it` judges one scenario of that run with checkResult, which names what broke.
for (const name of Object.keys(clients)) {
  describe(`compat: ${name}`, () => {
    const run = runClient(name);
    // The run is awaited by every `it`; keep an early rejection from being reported as unhandled.
    run.catch(() => {});
    const problems = async (scenario: keyof ReturnType<typeof checkResult>) =>
      checkResult((await run).result)[scenario];

    it('runs on a Node its packages accept', async () => {
      const { result, requiredMajor } = await run;
      expect(requiredMajor).toBe(requiredNodeMajor(clients[name]!.packages));
      expect(Number(result.node.slice(1).split('.')[0])).toBeGreaterThanOrEqual(requiredMajor);
      console.log(
        `${name}: ${result.packages.map((p: any) => `${p.name} ${p.version}`).join(' + ')} on Node ${result.node}, scenarios ${result.durationMs} ms`,
      );
    });
    it(`revoke storm: ${STORM_SIZE} concurrent requests after a revoke → one refresh, all succeed`, async () => {
      expect(await problems('revokeStorm')).toEqual([]);
    });
    it('JSON body replay: the retry after a 401 carries the same JSON', async () => {
      expect(await problems('jsonReplay')).toEqual([]);
      expect(JSON.parse((await run).result.jsonReplay.bodyText)).toEqual(REPLAY_BODY);
    });
    it('no token to a foreign origin, directly or through a redirect (Authorization and auth)', async () => {
      expect(await problems('foreignOrigin')).toEqual([]);
    });
    it("the client's own retry (a 503) and ours (a 401) compose: one refresh, success", async () => {
      expect(await problems('ownRetry')).toEqual([]);
    });
    it('an API that answers 401 forever: typed UNAUTHORIZED, token calls bounded', async () => {
      expect(await problems('unauthorizedForever')).toEqual([]);
    });
  });
}
