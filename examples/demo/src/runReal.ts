import { createEkaAuth } from '@eka/auth-core';
import { styler } from './output';

/** Environment variables that switch the demo to the real gateway. */
export interface RealEnv {
  EKA_CLIENT_ID?: string;
  EKA_CLIENT_SECRET?: string;
  EKA_SHARING_KEY?: string;
  EKA_BASE_URL?: string;
}

/** `undefined` when no real credentials are configured; otherwise what is missing (or nothing). */
export function realCredentialsProblem(env: RealEnv): string | undefined {
  if (!env.EKA_CLIENT_ID && !env.EKA_CLIENT_SECRET) return undefined;
  if (!env.EKA_CLIENT_ID)
    return 'EKA_CLIENT_SECRET is set but EKA_CLIENT_ID is not: set both, or neither for the emulator.';
  if (!env.EKA_CLIENT_SECRET)
    return 'EKA_CLIENT_ID is set but EKA_CLIENT_SECRET is not: set both, or neither for the emulator.';
  return '';
}

/**
 * The demo against Eka's real gateway: log in, force one refresh (refresh v2), and report the state
 * changes. Secrets are never printed; the client id is shortened.
 */
export async function runReal(env: RealEnv, write: (line: string) => void, color: boolean): Promise<boolean> {
  const s = styler(color);
  const baseUrl = env.EKA_BASE_URL ?? 'https://api.eka.care';
  const id = env.EKA_CLIENT_ID!;
  write(s.bold(`Talking to the REAL Eka gateway at ${baseUrl} as client ${id.slice(0, 4)}…`));
  if (env.EKA_SHARING_KEY) write('  with a sharing key (acting on another workspace)');
  const auth = createEkaAuth({
    clientId: id,
    clientSecret: env.EKA_CLIENT_SECRET!,
    sharingKey: env.EKA_SHARING_KEY || undefined,
    baseUrl,
  });
  auth.subscribe(({ state, expiresAt }) =>
    write(
      `  ${s.cyan(state)}${expiresAt ? s.dim(` (token expires ${new Date(expiresAt).toISOString()})`) : ''}`,
    ),
  );
  try {
    await auth.login();
    write(s.green('  ✓ login'));
    await auth.getAccessToken({ forceRefresh: true });
    write(s.green('  ✓ refresh (v2)'));
    return true;
  } catch (error) {
    write(s.red(`  ✗ ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`));
    return false;
  } finally {
    auth.dispose();
  }
}
