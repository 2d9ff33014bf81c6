import { runDemo } from './runDemo';
import { realCredentialsProblem, runReal } from './runReal';

const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
const write = (line: string) => process.stdout.write(`${line}\n`);

const problem = realCredentialsProblem(process.env);
if (problem) {
  console.error(problem);
  process.exitCode = 1;
} else if (problem === '') {
  process.exitCode = (await runReal(process.env, write, color)) ? 0 : 1;
} else {
  const { ok } = await runDemo({ write, color });
  process.exitCode = ok ? 0 : 1;
}
