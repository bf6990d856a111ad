import type { Executor } from "@picloud/shared";
import { InProcessExecutor } from "./in-process-executor.ts";
import { ProcessExecutor, type ProcessExecutorOptions } from "./process-executor.ts";

/** Options of {@link createExecutor}. */
export interface CreateExecutorOptions extends ProcessExecutorOptions {
  /** "process" (default): a supervised child process. "in-process": development only. */
  mode?: "process" | "in-process";
}

/** The platform's executor: a {@link ProcessExecutor} unless `mode` is "in-process". */
export function createExecutor(options: CreateExecutorOptions = {}): Executor {
  const { mode = "process", ...rest } = options;
  if (mode === "in-process") return new InProcessExecutor(rest);
  return new ProcessExecutor(rest);
}
