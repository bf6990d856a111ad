import { randomBytes } from "node:crypto";
import type { ExecutionLog, ExecutionStatus } from "@picloud/shared";

/**
 * Test and benchmark fixtures: UUIDv7 ids for an arbitrary time (the shared generator only
 * moves forward) and realistic execution-log rows.
 */
export function uuidv7At(ms: number): string {
  const b = randomBytes(16);
  b.writeUIntBE(Math.floor(ms), 0, 6);
  b[6] = 0x70 | ((b[6] ?? 0) & 0x0f);
  b[8] = 0x80 | ((b[8] ?? 0) & 0x3f);
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export interface FixtureOptions {
  scriptId: string;
  ms: number;
  status?: ExecutionStatus;
  id?: string;
  scriptName?: string;
}

/** A realistic row: a few headers, small bodies, two or three log lines. */
export function makeLog(o: FixtureOptions): ExecutionLog {
  const status = o.status ?? "success";
  const ok = status === "success";
  return {
    id: o.id ?? uuidv7At(o.ms),
    scriptId: o.scriptId,
    scriptName: o.scriptName ?? "hello-world",
    version: 3,
    trigger: "http",
    status,
    reason: ok ? "ok" : status === "error" ? "script_threw" : status === "timeout" ? "wall_time" : "heap",
    request: {
      method: "POST",
      path: "/orders/42",
      query: "?expand=items",
      headers: {
        "content-type": "application/json",
        "user-agent": "curl/8.5.0",
        accept: "*/*",
        authorization: "[redacted]",
      },
      body: '{"item":"book","qty":2}',
      bodyEncoding: "utf8",
      bodySize: 23,
      bodyTruncated: false,
    },
    response: ok
      ? {
          status: 200,
          headers: { "content-type": "application/json", "x-request-id": "r-123" },
          body: '{"ok":true,"total":24.5}',
          bodyEncoding: "utf8",
          bodySize: 24,
          bodyTruncated: false,
        }
      : null,
    logs: [
      { level: "info", message: "order received", data: { item: "book", qty: 2 }, ts: o.ms },
      { level: "debug", message: "price lookup", data: { ms: 3 }, ts: o.ms + 1 },
      ...(ok ? [] : [{ level: "error" as const, message: "lookup failed", ts: o.ms + 2 }]),
    ],
    logsTruncated: false,
    error: ok
      ? null
      : { name: "Error", message: "lookup failed", stack: "Error: lookup failed\n    at handler (script.js:3:9)" },
    durationMs: 12.5,
    cpuMs: 3.25,
    nodeId: "node-a",
    createdAt: new Date(o.ms).toISOString(),
  };
}
