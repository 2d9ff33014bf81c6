import { runCli } from './runCli';

// The bin: exit codes through process.exitCode (never process.exit), so pending cache writes finish.
runCli(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // A bug, not a gateway failure: say what, with the secrets from the environment taken out.
    let message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    for (const secret of [process.env.EKA_CLIENT_SECRET, process.env.EKA_SHARING_KEY]) {
      if (secret) message = message.split(secret).join('[redacted]');
    }
    process.stderr.write(`eka-auth: unexpected failure: ${message}\n`);
    process.exitCode = 1;
  },
);
