import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ExecutionLog } from "@picloud/shared";
import { makeLog } from "@picloud/testing";

export { collectingLogger } from "@picloud/testing";

import { afterAll } from "vitest";

/** A realistic execution log with a fresh id (the pipeline's tests; not exported from the package). */
export function testLog(extra: Partial<ExecutionLog> = {}): ExecutionLog {
  return { ...makeLog({ scriptId: "0190a3b4-0000-7000-8000-000000000001", ms: Date.now() }), ...extra };
}

export function testLogs(n: number): ExecutionLog[] {
  return Array.from({ length: n }, () => testLog());
}

/** A maker of temporary directories for one test file; they are removed after it. */
export function tempDirs(prefix: string): () => Promise<string> {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  return async () => {
    const d = await mkdtemp(join(tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
}
