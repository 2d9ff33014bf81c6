import { main } from './run';

process.exitCode = await main(process.env, {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
}).catch((error: unknown) => {
  // EkaAuthError messages never contain secrets or tokens.
  console.error(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  return 1;
});
