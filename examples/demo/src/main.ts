import { runDemo } from './runDemo';
import { realCredentialsProblem, runReal } from './runReal';

const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
// On a TTY every line first clears the progress line that bursts redraw in place.
const clear = process.stdout.isTTY ? '\r\x1b[2K' : '';
const write = (line: string) => process.stdout.write(`${clear}${line}\n`);

const problem = realCredentialsProblem(process.env);
if (problem) {
  console.error(problem);
  process.exitCode = 1;
} else if (problem === '') {
  process.exitCode = (await runReal(process.env, write, color)) ? 0 : 1;
} else {
  const progress = process.stdout.isTTY
    ? (text: string) => process.stdout.write(`\r\x1b[2K${text}`)
    : undefined;
  const { ok } = await runDemo({ write, color, progress });
  process.exitCode = ok ? 0 : 1;
}
