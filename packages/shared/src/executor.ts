import type { Budgets } from "./budgets.ts";
import type { ExecutionReason, ExecutionStatus, LogEntry, SerializedError } from "./execution.ts";

/** One script version as the executor needs it. `code` is the compiled ES module. */
export interface ScriptVersionRef {
  id: string;
  name: string;
  version: number;
  code: string;
}

/** A request as it crosses into the executor: plain data, body as bytes. */
export interface InvocationHttpRequest {
  method: string;
  /** Absolute URL the script sees as `req.url`. */
  url: string;
  headers: [string, string][];
  body: Uint8Array | null;
}

export interface InvocationHttpResponse {
  status: number;
  headers: [string, string][];
  body: Uint8Array;
}

/** Everything one invocation needs. */
export interface InvocationRequest {
  executionId: string;
  script: ScriptVersionRef;
  /** The script's decrypted env, exposed read-only as `env`. */
  env: Record<string, string>;
  budgets: Budgets;
  request: InvocationHttpRequest;
}

/** What came of an invocation. Script faults are outcomes, never thrown. */
export interface InvocationOutcome {
  status: ExecutionStatus;
  reason: ExecutionReason;
  /** The script's response on success; null otherwise. */
  response: InvocationHttpResponse | null;
  logs: LogEntry[];
  logsTruncated: boolean;
  error: SerializedError | null;
  durationMs: number;
  cpuMs: number;
}

export interface ExecutorStats {
  /** Isolates alive and idle or busy. */
  isolatesWarm: number;
  isolatesBusy: number;
  /** Compiled script versions held. */
  scriptsLoaded: number;
  /** Executor process restarts after a crash (supervised mode). */
  crashes: number;
}

/**
 * Runs invocations. Implemented in-process (development), by a supervised child process,
 * and over RPC to a `picloud-executor` (cluster mode); one contract suite covers them all.
 */
export interface Executor {
  invoke(req: InvocationRequest): Promise<InvocationOutcome>;
  /** Drops warm isolates of a script (all versions, or those other than `keepVersion`). */
  evict(scriptId: string, keepVersion?: number): void;
  /**
   * Optional: readies an isolate for a script version before its first invocation (called
   * when a version is saved, so that its first request finds it warm). Best effort: never
   * throws; a script that does not load reports that at its invocation.
   */
  prepare?(script: ScriptVersionRef, memoryMb: number): void;
  /** Resolves when the executor can take invocations. */
  ready(): Promise<boolean>;
  stats(): ExecutorStats;
  close(): Promise<void>;
}
