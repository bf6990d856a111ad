import type { Budgets, Executor, InvocationOutcome, InvocationRequest } from "@picloud/shared";
import { compileScript } from "./compile.ts";

/** Small budgets so that the suites stay fast on a slow shared machine. */
export const TEST_BUDGETS: Budgets = {
  wallTimeMs: 1500,
  cpuTimeMs: 300,
  memoryMb: 32,
  maxRequestBytes: 64 * 1024,
  maxResponseBytes: 1024 * 1024,
  maxLogLines: 50,
  maxLogBytes: 8 * 1024,
  maxFetches: 3,
  maxFetchBytes: 64 * 1024,
  fetchTimeoutMs: 1000,
};

let seq = 0;

export interface TestCall {
  id?: string;
  name?: string;
  version?: number;
  method?: string;
  url?: string;
  headers?: [string, string][];
  body?: Uint8Array | string | null;
  env?: Record<string, string>;
  budgets?: Partial<Budgets>;
}

/** An InvocationRequest for `source` (compiled like the manager does at save time). */
export function request(source: string, call: TestCall = {}): InvocationRequest {
  const name = call.name ?? "test";
  const version = call.version ?? 1;
  const { code } = compileScript(source, { filename: `script:${name}@v${version}` });
  const body = typeof call.body === "string" ? new TextEncoder().encode(call.body) : (call.body ?? null);
  return {
    executionId: `exec-${++seq}`,
    script: { id: call.id ?? name, name, version, code },
    env: call.env ?? {},
    budgets: { ...TEST_BUDGETS, ...call.budgets },
    request: {
      method: call.method ?? "GET",
      url: call.url ?? "https://example.test/path?x=1",
      headers: call.headers ?? [],
      body,
    },
  };
}

export function run(ex: Executor, source: string, call: TestCall = {}): Promise<InvocationOutcome> {
  return ex.invoke(request(source, call));
}

export function bodyText(o: InvocationOutcome): string {
  return o.response ? new TextDecoder().decode(o.response.body) : "";
}

export function header(o: InvocationOutcome, name: string): string | undefined {
  return o.response?.headers.find(([k]) => k.toLowerCase() === name)?.[1];
}

/** A normal script that must keep answering after every hostile case. */
export async function expectHealthy(ex: Executor): Promise<void> {
  const o = await run(ex, `export default (req) => ({ ok: true, n: 40 + 2 })`, { id: "healthy", name: "healthy" });
  if (o.status !== "success" || bodyText(o) !== '{"ok":true,"n":42}') {
    throw new Error(`healthy script failed after the case: ${JSON.stringify({ ...o, response: bodyText(o) })}`);
  }
}
