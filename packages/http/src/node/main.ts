import { EnvError } from "@picloud/shared";

/** Prints a newly generated admin token once, to the terminal only (never to the structured log). */
export function announceAdminToken(token: string | null): void {
  if (token) process.stderr.write(`\n  PiCloud admin token (shown once, store it now):\n\n    ${token}\n\n`);
}

/**
 * A binary's entry: a configuration error ends it with one line per bad variable and exit
 * code 78 (EX_CONFIG); any other start-up failure with its stack and exit code 1.
 */
export async function runMain(name: string, start: () => Promise<unknown>): Promise<void> {
  try {
    await start();
  } catch (err) {
    if (err instanceof EnvError) {
      process.stderr.write(`${name}: ${err.message}\n`);
      process.exit(78);
    }
    process.stderr.write(`${name}: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : err}\n`);
    process.exit(1);
  }
}
