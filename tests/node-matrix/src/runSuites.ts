import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';

/** The repository root. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Examples left out of the matrix: they drive Chromium, which runs on the machine's Node only. */
const BROWSER_EXAMPLES = ['browser-spa'];

/** A vitest project the matrix re-runs: its name (for `--project`) and folder (to find its files). */
export interface MatrixProject {
  name: string;
  folder: string;
}

const projectIn = (folder: string): MatrixProject => ({
  name: (JSON.parse(readFileSync(join(ROOT, folder, 'package.json'), 'utf8')) as { name: string }).name,
  folder,
});

/**
 * What runs on every Node of the matrix: the core, the four adapters (each with the adapter contract
 * on the host versions that Node supports), `@eka/auth-testing` (emulator, msw handlers, contract
 * helpers), the packed-tarball consumers and every example with a vitest config except the browser one.
 */
export function matrixProjects(): MatrixProject[] {
  const packages = [
    'auth-core',
    'auth-fetch',
    'auth-axios',
    'auth-got',
    'auth-openapi-fetch',
    'auth-testing',
  ].map((name) => `packages/${name}`);
  const examples = readdirSync(join(ROOT, 'examples'))
    .filter((name) => !BROWSER_EXAMPLES.includes(name))
    .filter((name) => existsSync(join(ROOT, 'examples', name, 'vitest.config.ts')))
    .sort()
    .map((name) => `examples/${name}`);
  return [...packages, ...examples, 'tests/consumers'].map(projectIn);
}

/** One test file of the child run, from vitest's JSON report. */
interface FileOutcome {
  /** Path relative to the repository root. */
  file: string;
  status: string;
  passed: number;
  failed: number;
  skipped: number;
}

/** What one child vitest run did. */
export interface SuiteRun {
  code: number | null;
  signal: string | null;
  /** The child's last lines (vitest's summary), colours off. */
  summary: string;
  /** Everything the child printed, for a failure message. */
  output: string;
  files: FileOutcome[];
  wallMs: number;
}

/**
 * The child's environment: ours without what marks a vitest worker (the child is a vitest of its own)
 * or preloads code (`NODE_OPTIONS`), with the matrix Node first on `PATH`, so every `node` the suites
 * spawn — and the `npm`/`pnpm` scripts they run — is that Node too.
 */
function childEnv(nodeBin: string, major: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key === 'VITEST' || key.startsWith('VITEST_') || key === 'NODE_OPTIONS' || key === 'TEST') continue;
    env[key] = value;
  }
  return {
    ...env,
    PATH: `${dirname(nodeBin)}${delimiter}${process.env.PATH ?? ''}`,
    EKA_NODE_MATRIX: String(major),
    NO_COLOR: '1',
    FORCE_COLOR: '0',
  };
}

type JsonReport = {
  testResults: { name: string; status: string; assertionResults: { status: string }[] }[];
};

/**
 * Runs `<nodeBin> node_modules/vitest/vitest.mjs run --project … --pool=forks --maxWorkers=2` at the
 * repository root (its vitest.config.ts) and reads the JSON report. Never rejects on a failing run:
 * the result says what happened.
 */
export async function runSuites(
  nodeBin: string,
  major: number,
  projects: MatrixProject[],
  timeoutMs = 840_000,
): Promise<SuiteRun> {
  const reportDir = mkdtempSync(join(tmpdir(), 'eka-node-matrix-'));
  const reportFile = join(reportDir, 'report.json');
  const args = [
    join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'),
    'run',
    '--pool=forks',
    '--maxWorkers=2',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${reportFile}`,
    ...projects.flatMap((project) => ['--project', project.name]),
  ];
  const started = performance.now();
  try {
    const { code, signal, output } = await new Promise<{
      code: number | null;
      signal: string | null;
      output: string;
    }>((resolve, reject) => {
      const child = spawn(nodeBin, args, { cwd: ROOT, env: childEnv(nodeBin, major), stdio: 'pipe' });
      let output = '';
      child.stdout.on('data', (chunk) => {
        output += chunk;
      });
      child.stderr.on('data', (chunk) => {
        output += chunk;
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.on('close', (exitCode, exitSignal) => {
        clearTimeout(timer);
        resolve({ code: exitCode, signal: exitSignal, output });
      });
    });
    const plain = stripVTControlCharacters(output);
    const lines = plain.trimEnd().split('\n');
    let from = lines.length - 1;
    while (from >= 0 && !/^\s*Test Files\s/.test(lines[from] ?? '')) from--;
    const summary = (from >= 0 ? lines.slice(from) : lines.slice(-8)).join('\n');
    const files = existsSync(reportFile)
      ? (JSON.parse(readFileSync(reportFile, 'utf8')) as JsonReport).testResults.map((result) => {
          const count = (status: string) =>
            result.assertionResults.filter((assertion) => assertion.status === status).length;
          return {
            file: relative(ROOT, result.name),
            status: result.status,
            passed: count('passed'),
            failed: count('failed'),
            skipped: count('skipped') + count('pending') + count('todo'),
          };
        })
      : [];
    return { code, signal, summary, output: plain, files, wallMs: Math.round(performance.now() - started) };
  } finally {
    rmSync(reportDir, { recursive: true, force: true });
  }
}
