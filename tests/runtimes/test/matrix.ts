import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import {
  describeOutcome,
  EXPECTED_STATS,
  expectedSteps,
  KNOWN_ISSUES,
  probeRuntime,
  runOnRuntime,
  summariseStats,
  UNAVAILABLE_REASONS,
} from '../src/host.mjs';

type Runtime = 'node' | 'bun' | 'deno' | 'workerd';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
/** Set EKA_REQUIRE_RUNTIMES=1 (or a list: bun,deno) where every runtime must really run. */
const required = (runtime: Runtime) => {
  const value = process.env.EKA_REQUIRE_RUNTIMES ?? '';
  return value === '1' || value === 'all' || value.split(',').includes(runtime);
};

function expectPassingRun(runtime: Runtime, outcome: Awaited<ReturnType<typeof runOnRuntime>>) {
  expect(outcome.outcome).toBe('ran');
  if (outcome.outcome !== 'ran') return;
  expect(outcome.result.error).toBeUndefined();
  expect(outcome.result.runtime.name).toBe(runtime); // the runtime itself says what it is
  expect(outcome.result.steps).toEqual(expectedSteps(runtime));
  expect(summariseStats(outcome.stats)).toEqual(EXPECTED_STATS);
}

/**
 * One named test per runtime: it runs the scenario and checks what the scenario saw and what the
 * emulator counted — or, when the runtime cannot run here, asserts and reports a documented reason.
 */
export function defineRuntimeTests(runtime: Runtime) {
  const probe = probeRuntime(runtime);

  if (!probe.available) {
    it(`${runtime}: NOT RUN here — ${probe.reason}`, async ({ annotate }) => {
      const line = describeOutcome({ ...probe, outcome: 'unavailable' });
      console.warn(`[runtimes] ${line}`);
      await annotate(line, 'warning');
      expect(UNAVAILABLE_REASONS).toContain(probe.reason);
      expect(readme, 'every reason is documented in tests/runtimes/README.md').toContain(
        `\`${probe.reason}\``,
      );
      expect(required(runtime), `EKA_REQUIRE_RUNTIMES asks for ${runtime}: ${line}`).toBe(false);
    });
    return;
  }

  const known = KNOWN_ISSUES[runtime];
  const scenario = 'login, a call, revoke + one 401 retry, cross-origin redirect without the token';

  if (!known) {
    it(`${runtime} ${probe.version}: ${scenario}`, async () => {
      const outcome = await runOnRuntime(runtime, probe);
      console.log(`[runtimes] ${describeOutcome(outcome)}`);
      expectPassingRun(runtime, outcome);
    });
    return;
  }

  it(`${runtime} ${probe.version}: KNOWN ISSUE with the default fetch — ${known.symptom.source}`, async ({
    annotate,
  }) => {
    const outcome = await runOnRuntime(runtime, probe);
    const note = `${runtime}: KNOWN ISSUE — ${known.summary}; see tests/runtimes/README.md`;
    console.warn(`[runtimes] ${describeOutcome(outcome)}\n[runtimes] ${note}`);
    await annotate(note, 'warning');
    expect(outcome.outcome).toBe('ran');
    if (outcome.outcome !== 'ran') return;
    expect(
      outcome.result.error,
      `the known ${runtime} issue is gone: delete KNOWN_ISSUES.${runtime} in src/host.mjs and its README entry`,
    ).toMatch(known.symptom);
  });

  it(`${runtime} ${probe.version}: ${scenario} (with the ${known.workaround} workaround)`, async () => {
    const outcome = await runOnRuntime(runtime, probe, { coreFetch: known.workaround });
    console.log(`[runtimes] ${describeOutcome(outcome)} [${known.workaround}]`);
    expectPassingRun(runtime, outcome);
  });
}
