import { type ExecutionLog, uuidv7 } from "@picloud/shared";

/** A small, valid execution log for the pipeline's own tests (not exported from the package). */
export function testLog(extra: Partial<ExecutionLog> = {}): ExecutionLog {
  return {
    id: uuidv7(),
    scriptId: "0190a3b4-0000-7000-8000-000000000001",
    scriptName: "pipeline-test",
    version: 1,
    trigger: "http",
    status: "success",
    reason: "ok",
    request: {
      method: "GET",
      path: "/",
      query: "",
      headers: { accept: "*/*" },
      body: null,
      bodyEncoding: "utf8",
      bodySize: 0,
      bodyTruncated: false,
    },
    response: null,
    logs: [{ level: "info", message: "hi", ts: 1 }],
    logsTruncated: false,
    error: null,
    durationMs: 1,
    cpuMs: 1,
    nodeId: "test",
    createdAt: new Date().toISOString(),
    ...extra,
  };
}

export function testLogs(n: number): ExecutionLog[] {
  return Array.from({ length: n }, () => testLog());
}
