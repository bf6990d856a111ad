import { z } from "zod";
import { BudgetsSchema } from "./budgets.ts";
import { type ExecutionReason, ExecutionStatusSchema, LogEntrySchema, SerializedErrorSchema } from "./execution.ts";
import { ResolvedScriptSchema } from "./script.ts";

// The executor's contract: what an Executor takes and gives back, in every mode (in this
// process, in a supervised child, over TCP to a picloud-executor). The schemas validate
// both ends of the executor RPC (executor-rpc.ts); the types are inferred from them.

/** Bytes as they cross the RPC (v8 serialisation keeps Uint8Array; a Buffer is one too). */
const BytesSchema = z.custom<Uint8Array>((v) => v instanceof Uint8Array, "expected bytes (a Uint8Array)");
const HeaderPairsSchema = z.array(z.tuple([z.string(), z.string()]));

/** One script version as the executor needs it. `code` is the compiled ES module. */
export const ScriptVersionRefSchema = ResolvedScriptSchema.pick({ id: true, name: true, version: true, code: true });
export type ScriptVersionRef = z.infer<typeof ScriptVersionRefSchema>;

/** A request as it crosses into the executor: plain data, body as bytes. */
export const InvocationHttpRequestSchema = z.object({
  method: z.string(),
  /** Absolute URL the script sees as `req.url`. */
  url: z.string(),
  headers: HeaderPairsSchema,
  body: BytesSchema.nullable(),
});
export type InvocationHttpRequest = z.infer<typeof InvocationHttpRequestSchema>;

export const InvocationHttpResponseSchema = z.object({
  status: z.number().int(),
  headers: HeaderPairsSchema,
  body: BytesSchema,
});
export type InvocationHttpResponse = z.infer<typeof InvocationHttpResponseSchema>;

/** Everything one invocation needs. */
export const InvocationRequestSchema = z.object({
  executionId: z.string(),
  script: ScriptVersionRefSchema,
  /** The script's decrypted env, exposed read-only as `env`. */
  env: z.record(z.string(), z.string()),
  budgets: BudgetsSchema,
  request: InvocationHttpRequestSchema,
});
export type InvocationRequest = z.infer<typeof InvocationRequestSchema>;

/** What came of an invocation. Script faults are outcomes, never thrown. */
export const InvocationOutcomeSchema = z.object({
  status: ExecutionStatusSchema,
  /** Kept open (any string), so that a newer executor can report a reason an older reader lacks. */
  reason: z.custom<ExecutionReason>((v) => typeof v === "string"),
  /** The script's response on success; null otherwise. */
  response: InvocationHttpResponseSchema.nullable(),
  logs: z.array(LogEntrySchema),
  logsTruncated: z.boolean(),
  error: SerializedErrorSchema.nullable(),
  durationMs: z.number(),
  cpuMs: z.number(),
});
export type InvocationOutcome = z.infer<typeof InvocationOutcomeSchema>;

export const ExecutorStatsSchema = z.object({
  /** Isolates alive and idle or busy. */
  isolatesWarm: z.number().int(),
  isolatesBusy: z.number().int(),
  /** Compiled script versions held. */
  scriptsLoaded: z.number().int(),
  /** Executor process restarts after a crash (supervised mode). */
  crashes: z.number().int(),
});
export type ExecutorStats = z.infer<typeof ExecutorStatsSchema>;

/**
 * Runs invocations. Implemented in-process (development), by a supervised child process,
 * and over RPC to a `picloud-executor` (cluster mode); one contract suite covers them all.
 * A wrapper forwards every method.
 */
export interface Executor {
  invoke(req: InvocationRequest): Promise<InvocationOutcome>;
  /** Drops warm isolates of a script (all versions, or those other than `keepVersion`). */
  evict(scriptId: string, keepVersion?: number): void;
  /**
   * Readies an isolate for a script version before its first invocation (called when a
   * version is saved, so that its first request finds it warm). Resolves once the isolate
   * is ready, or could not be made: best effort, it never rejects, and a script that does
   * not load reports that at its invocation.
   */
  prepare(script: ScriptVersionRef, memoryMb: number): Promise<void>;
  /** Resolves when the executor can take invocations. */
  ready(): Promise<boolean>;
  stats(): ExecutorStats;
  close(): Promise<void>;
}
