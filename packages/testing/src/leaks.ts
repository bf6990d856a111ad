import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import type { Logger } from "pino";
import postgres from "postgres";
import { closedAfterFailedStart, recordingLogger } from "./logger.ts";
import { testPgUrl } from "./postgres.ts";
import { eventually } from "./wait.ts";

/** PIDs of this process's live child processes (Linux `/proc`; zombies left out). */
export function childPids(): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // After the command name (in parentheses, which may hold spaces): state, ppid, ...
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(ppid) === process.pid && state !== "Z") out.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return out.sort((a, b) => a - b);
}

/** Open connections to a database (`pg_stat_activity`), this query's own excepted. */
export async function databaseConnections(database: string): Promise<number> {
  const sql = postgres(testPgUrl(), { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ n: number }[]>`
      select count(*)::int as n from pg_stat_activity where datname = ${database} and pid <> pg_backend_pid()`;
    return row?.n ?? 0;
  } finally {
    await sql.end();
  }
}

/** A loopback port held open, so that a server asked to listen there fails (EADDRINUSE); `close` frees it. */
export async function occupiedPort(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return { port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/**
 * Starts a binary on a port that is already taken, so that its start fails at its last step
 * (listening), and waits until every child process it spawned is gone. Resolves to the
 * resources it says it closed (its "failed to start" log line).
 */
export async function startOnTakenPort(
  start: (port: number, logger: Logger) => Promise<unknown>,
): Promise<{ closed: string[] | undefined }> {
  const taken = await occupiedPort();
  const children = childPids();
  const { logger, lines } = recordingLogger();
  try {
    const failure = await start(taken.port, logger).then(
      () => new Error("the start did not fail on a taken port"),
      (err: unknown) => err,
    );
    if (!(failure instanceof Error) || !/EADDRINUSE/.test(failure.message)) throw failure;
  } finally {
    await taken.close();
  }
  await eventually(() => childPids().join() === children.join(), 10_000, "no child process left");
  return { closed: closedAfterFailedStart(lines) };
}
