/**
 * Entry point of the compiler child process (see CompilerProcess): runs `compileScript`
 * for each request that arrives over the IPC channel, one at a time. When esbuild's own
 * service dies (a source can crash it: deep nesting overflows its stack), this process
 * says so and exits: its parent starts a fresh one for the next save.
 */
import { isPiCloudError } from "@picloud/shared";
import { transformSync } from "esbuild";
import { compileScript } from "./compile.ts";
import type { CompileReply, CompileRequest } from "./compiler-process.ts";

function reply(msg: CompileReply): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(msg, undefined, {}, () => resolve());
  });
}

process.on("message", async (msg: CompileRequest) => {
  try {
    if (msg.kind === "ping") {
      // Exercises esbuild itself: a dead service fails here too.
      transformSync("0");
      await reply({ id: msg.id, kind: "ok", code: "" });
      return;
    }
    const { code } = compileScript(msg.source, { filename: msg.filename });
    await reply({ id: msg.id, kind: "ok", code });
  } catch (e) {
    if (isPiCloudError(e)) {
      await reply({ id: msg.id, kind: "rejected", message: e.message, details: e.details ?? null });
      return;
    }
    // Anything else means esbuild is no longer usable ("The service was stopped"): end here.
    await reply({ id: msg.id, kind: "crashed", message: e instanceof Error ? e.message : String(e) });
    process.exit(70);
  }
});
// The parent went away: nothing left to serve.
process.on("disconnect", () => process.exit(0));
