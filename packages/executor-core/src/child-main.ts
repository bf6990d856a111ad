/**
 * Entry point of the supervised executor child process (see ProcessExecutor): an
 * InProcessExecutor served over fd 3. Options arrive as JSON in PICLOUD_EXECUTOR_OPTIONS.
 * Any fault that escapes ends the process; the supervisor restarts it.
 */
import { Socket } from "node:net";
import { InProcessExecutor, type InProcessExecutorOptions } from "./in-process-executor.ts";
import { serveExecutor } from "./rpc/server.ts";

const opts = JSON.parse(process.env["PICLOUD_EXECUTOR_OPTIONS"] ?? "{}") as InProcessExecutorOptions;
const executor = new InProcessExecutor(opts);
const channel = new Socket({ fd: 3, readable: true, writable: true });
serveExecutor(channel, executor);
// The parent went away: nothing left to serve.
channel.on("close", () => process.exit(0));
process.on("uncaughtException", (e) => {
  process.stderr.write(`[executor] uncaught exception, exiting: ${e.stack ?? e}\n`);
  process.exit(70);
});
process.on("unhandledRejection", (e) => {
  process.stderr.write(`[executor] unhandled rejection, exiting: ${e instanceof Error ? e.stack : e}\n`);
  process.exit(70);
});
