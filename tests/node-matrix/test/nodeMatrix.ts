import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { type MatrixMajor, obtainNode, UNAVAILABLE_REASONS } from '../src/nodeBinary';
import { matrixProjects, runSuites } from '../src/runSuites';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** Under `CI=true`, or with EKA_REQUIRE_NODES=1 (or a list: 22,26), every Node must really run. */
const required = (major: MatrixMajor) => {
  const value = process.env.EKA_REQUIRE_NODES ?? '';
  return (
    process.env.CI === 'true' || value === '1' || value === 'all' || value.split(',').includes(String(major))
  );
};

/**
 * One test per Node major: obtain the binary (cache, else the npm registry), re-run the matrix
 * projects on it with vitest, and require exit 0 with every project's files passing. A Node that
 * cannot be obtained is reported under a documented reason — and fails under CI.
 */
export function defineNodeMatrixTest(major: MatrixMajor) {
  const projects = matrixProjects();

  it(`Node ${major}: ${projects.map((project) => project.name.replace('@eka/', '')).join(', ')}`, async ({
    annotate,
  }) => {
    const node = await obtainNode(major);
    if (!node.available) {
      const line = `Node ${node.version}: NOT RUN here — ${node.reason}: ${node.detail}`;
      console.warn(`[node-matrix] ${line}`);
      await annotate(line, 'warning');
      expect(UNAVAILABLE_REASONS).toContain(node.reason);
      expect(readme, 'every reason is documented in tests/node-matrix/README.md').toContain(
        `\`${node.reason}\``,
      );
      expect(required(major), `Node ${major} is required here (CI=true or EKA_REQUIRE_NODES): ${line}`).toBe(
        false,
      );
      return;
    }

    const run = await runSuites(node.bin, major, projects);
    const failedFiles = run.files.filter((file) => file.status !== 'passed' || file.failed > 0);
    const tally = run.files.reduce(
      (sum, file) => ({
        passed: sum.passed + file.passed,
        failed: sum.failed + file.failed,
        skipped: sum.skipped + file.skipped,
      }),
      { passed: 0, failed: 0, skipped: 0 },
    );
    console.log(
      `[node-matrix] Node ${node.version} (${node.cached ? 'cached' : 'downloaded'}): ${run.files.length} files, ` +
        `${tally.passed} passed, ${tally.failed} failed, ${tally.skipped} skipped in ${Math.round(run.wallMs / 1000)} s\n` +
        run.summary.replace(/^/gm, `[node-matrix ${major}] `),
    );
    const tail = run.output.split('\n').slice(-120).join('\n');
    expect(
      failedFiles.map((file) => file.file),
      tail,
    ).toEqual([]);
    expect(run.signal, tail).toBeNull();
    expect(run.code, tail).toBe(0);
    // Every project really ran on this Node: at least one of its files passed with tests in it.
    for (const project of projects) {
      const ran = run.files.filter((file) => file.file.startsWith(`${project.folder}/`) && file.passed > 0);
      expect(ran.length, `${project.name} ran no passing test file on Node ${node.version}`).toBeGreaterThan(
        0,
      );
    }
  });
}
