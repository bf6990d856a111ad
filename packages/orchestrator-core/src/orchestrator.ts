import type { Logger, Metrics } from "@picloud/http";
import {
  type Budgets,
  bearerToken,
  type ExecutionLog,
  type ExecutionLogSink,
  type Executor,
  type InvocationOutcome,
  isPlatformCookieName,
  PiCloudError,
  type ResolvedScript,
  resolveBudgets,
  type Trigger,
  uuidv7,
  uuidv7Time,
} from "@picloud/shared";
import { HOP_BY_HOP, readBodyCapped } from "./body.ts";
import { ConcurrencyGate } from "./concurrency-gate.ts";
import type { ScriptCache } from "./script-cache.ts";
import { type DroppedHeader, sandboxScriptAnswer, scriptHeaders } from "./script-response-policy.ts";
import { Redactor, redactHeaders, summarizeBody } from "./summaries.ts";

export interface OrchestratorOptions {
  scripts: ScriptCache;
  verifyInvokeKey: (scriptId: string, key: string) => Promise<boolean>;
  executor: Executor;
  sink: ExecutionLogSink;
  /** Caps on executions in flight: overflow is shed with 503 + Retry-After (the gate). */
  concurrency: { global: number; perScript: number };
  defaults: Budgets;
  ceilings: Budgets;
  nodeId: string;
  /** Bodies kept in execution logs are cut to this many bytes. */
  logBodyBytes: number;
  logger: Logger;
  /** Where the orchestrator counts invocations, gate rejections, in-flight work and sink rows. */
  metrics?: Metrics;
}

/** Who is calling and what they asked for, as the HTTP route worked it out. */
export interface InvokeTarget {
  idOrName: string;
  /** The path after the script's name, always starting with `/`. */
  restPath: string;
  /** The caller proved to be the admin (may invoke private scripts, may mark a test run). */
  admin: boolean;
  /**
   * How the admin proved it. The credential is the platform's, so it is removed before the
   * script sees the request: a script must never read the admin token or a session id.
   */
  adminVia?: "token" | "session" | null;
  trigger: Trigger;
  /**
   * Whether the answer gets the sandbox policy (an opaque origin). True unless the request
   * came to the operator's separate script origin (docs/security.md, "Script output").
   */
  sandbox?: boolean;
}

export const EXECUTION_ID_HEADER = "x-picloud-execution-id";

/**
 * Event ingress (docs/design.md#requests-end-to-end-single-process): an HTTP request becomes an invocation, passes the gate, runs
 * on the executor, becomes an ExecutionLog written through the sink, and its outcome
 * becomes the HTTP answer. Every answer carries the execution id.
 */
export class Orchestrator {
  readonly #o: OrchestratorOptions;
  readonly #gate: ConcurrencyGate;
  #sinkFailures = 0;

  constructor(o: OrchestratorOptions) {
    this.#o = o;
    const metrics = o.metrics;
    this.#gate = new ConcurrencyGate({
      ...o.concurrency,
      ...(metrics ? { onReject: (scope) => metrics.gateRejections.inc({ scope }) } : {}),
    });
    if (metrics) {
      metrics.gauge("picloud_sink_rows", "Execution-log sink counters.", () => ({ ...o.sink.stats() }));
      metrics.gauge("picloud_inflight", "Executions in flight.", () => this.#gate.inFlight());
      metrics.gauge("picloud_sink_failures_orchestrator_total", "Sink writes that threw.", () => this.#sinkFailures);
    }
  }

  /** Executions in flight (inside the gate). */
  inFlight(): number {
    return this.#gate.inFlight();
  }

  get sinkFailures(): number {
    return this.#sinkFailures;
  }

  /**
   * Readies the executor for a script's current version ahead of its first request (called
   * on change notices: a saved version is warm by the time it is called). Best effort.
   */
  async prepare(idOrName: string): Promise<void> {
    try {
      const s = await this.#o.scripts.get(idOrName);
      if (!s) return;
      const { memoryMb } = resolveBudgets(this.#o.defaults, this.#o.ceilings, s.limits);
      await this.#o.executor.prepare({ id: s.id, name: s.name, version: s.version, code: s.code }, memoryMb);
    } catch (err) {
      this.#o.logger.debug({ err, script: idOrName }, "could not prepare a script version");
    }
  }

  async invoke(req: Request, target: InvokeTarget): Promise<Response> {
    const executionId = uuidv7();
    let res: Response;
    try {
      res = await this.#invoke(req, target, executionId);
    } catch (err) {
      const e =
        err instanceof PiCloudError ? err : new PiCloudError("internal_server_error", "internal error", { cause: err });
      if (!(err instanceof PiCloudError)) this.#o.logger.error({ err, executionId }, "invoke failed");
      res = e.toResponse(executionId);
    }
    res.headers.set(EXECUTION_ID_HEADER, executionId);
    return target.sandbox === false ? res : sandboxScriptAnswer(res);
  }

  async #invoke(req: Request, target: InvokeTarget, executionId: string): Promise<Response> {
    const started = performance.now();
    const script = await this.#o.scripts.get(target.idOrName);
    if (!script) throw new PiCloudError("not_found", `no script ${JSON.stringify(target.idOrName)}`);
    const url = new URL(req.url);
    // A copy only where the key check removes the platform's credential from what the
    // script sees; otherwise the request's own headers are read as they are.
    let headers = req.headers;
    if (script.visibility === "private" && !target.admin) {
      headers = new Headers(headers);
      await this.#checkKey(script, url, headers);
    }
    if (target.adminVia === "token" || hasPlatformCookie(headers.get("cookie"))) {
      if (headers === req.headers) headers = new Headers(headers);
      stripPlatformCredentials(headers, target.adminVia ?? null);
    }
    const budgets = resolveBudgets(this.#o.defaults, this.#o.ceilings, script.limits);
    const body = await readBodyCapped(req, budgets.maxRequestBytes, req.headers.get("content-length"));
    const release = this.#gate.acquire(script.id);
    let outcome: InvocationOutcome;
    const scriptUrl = `${url.origin}${target.restPath}${url.search}`;
    const reqHeaders = [...headers].filter(([k]) => !HOP_BY_HOP.has(k));
    try {
      outcome = await this.#o.executor
        .invoke({
          executionId,
          script: { id: script.id, name: script.name, version: script.version, code: script.code },
          env: script.env,
          budgets,
          request: { method: req.method, url: scriptUrl, headers: reqHeaders, body },
        })
        .catch((err: unknown) => {
          this.#o.logger.error({ err, executionId }, "executor failed an invocation");
          return failedOutcome("internal_error");
        });
    } finally {
      release();
    }
    const totalMs = performance.now() - started;
    const redactor = new Redactor([...Object.values(script.env), ...credentialValues(req.headers)]);
    this.#record(
      executionId,
      script,
      target,
      req.method,
      target.restPath,
      url.search,
      reqHeaders,
      body,
      outcome,
      redactor,
    );
    this.#o.metrics?.invocations.inc({ script: script.name, status: outcome.status });
    this.#o.metrics?.duration.observe({ status: outcome.status }, totalMs / 1000);
    const dropped: DroppedHeader[] = [];
    const res = toResponse(outcome, redactor, dropped);
    for (const d of dropped) {
      this.#o.logger.warn(
        {
          executionId,
          script: script.name,
          header: d.name,
          ...(d.cookie ? { cookie: d.cookie } : {}),
          reason: d.reason,
        },
        "dropped a header of a script's answer",
      );
    }
    return res;
  }

  async #checkKey(script: ResolvedScript, url: URL, headers: Headers): Promise<void> {
    const fromHeader = bearerToken(headers.get("authorization"));
    const key = fromHeader ?? url.searchParams.get("key");
    if (!key || !(await this.#o.verifyInvokeKey(script.id, key))) {
      throw new PiCloudError("unauthorized", "this script is private: send an invoke key as Bearer or ?key=", {
        headers: { "WWW-Authenticate": 'Bearer realm="picloud-invoke"' },
      });
    }
    // The key is for the platform, not for the script.
    if (fromHeader) headers.delete("authorization");
    else url.searchParams.delete("key");
  }

  #record(
    id: string,
    script: ResolvedScript,
    target: InvokeTarget,
    method: string,
    path: string,
    query: string,
    reqHeaders: [string, string][],
    reqBody: Uint8Array | null,
    outcome: InvocationOutcome,
    redactor: Redactor,
  ): void {
    const max = this.#o.logBodyBytes;
    const reqType = reqHeaders.find(([k]) => k === "content-type")?.[1];
    const res = outcome.response;
    const log: ExecutionLog = {
      id,
      scriptId: script.id,
      scriptName: script.name,
      version: script.version,
      trigger: target.trigger,
      status: outcome.status,
      reason: outcome.reason,
      request: {
        method,
        path,
        query: redactor.text(query),
        headers: redactHeaders(reqHeaders, redactor),
        ...summarizeBody(reqBody, reqType, max, redactor),
      },
      response: res
        ? {
            status: res.status,
            headers: redactHeaders(res.headers, redactor),
            ...summarizeBody(
              res.body,
              res.headers.find(([k]) => k.toLowerCase() === "content-type")?.[1],
              max,
              redactor,
            ),
          }
        : null,
      logs: outcome.logs.map((l) => ({
        ...l,
        message: redactor.text(l.message),
        ...(l.data === undefined ? {} : { data: redactor.data(l.data) }),
      })),
      logsTruncated: outcome.logsTruncated,
      error: outcome.error
        ? {
            name: outcome.error.name,
            message: redactor.text(outcome.error.message),
            stack: outcome.error.stack === null ? null : redactor.text(outcome.error.stack),
          }
        : null,
      durationMs: round(outcome.durationMs),
      cpuMs: round(outcome.cpuMs),
      nodeId: this.#o.nodeId,
      createdAt: new Date(uuidv7Time(id)).toISOString(),
    };
    try {
      this.#o.sink.write(log);
    } catch (err) {
      // The sink contract says write never throws; if one does, the caller still gets its answer.
      this.#sinkFailures++;
      this.#o.logger.warn({ err, executionId: id }, "execution-log sink failed");
    }
  }
}

/** Whether a Cookie header carries one of the platform's cookies. */
function hasPlatformCookie(cookie: string | null): boolean {
  return !!cookie && cookie.split(";").some((c) => isPlatformCookieName(c.split("=")[0] ?? ""));
}

/** Removes the platform's cookies (the dashboard session), and the admin's bearer token when it was one. */
export function stripPlatformCredentials(headers: Headers, adminVia: "token" | "session" | null): void {
  if (adminVia === "token") headers.delete("authorization");
  const cookie = headers.get("cookie");
  if (hasPlatformCookie(cookie)) {
    const kept = (cookie ?? "")
      .split(";")
      .map((c) => c.trim())
      .filter((c) => c && !isPlatformCookieName(c.split("=")[0] ?? ""));
    if (kept.length) headers.set("cookie", kept.join("; "));
    else headers.delete("cookie");
  }
}

/**
 * Credentials the caller sent (Authorization, Cookie, x-api-key): kept out of everything
 * recorded, even where a script echoes them into its body or logs.
 */
function credentialValues(headers: Headers): string[] {
  const out: string[] = [];
  const auth = headers.get("authorization");
  if (auth) out.push(auth, auth.replace(/^\S+\s+/, ""));
  const apiKey = headers.get("x-api-key");
  if (apiKey) out.push(apiKey);
  const cookie = headers.get("cookie");
  if (cookie) {
    out.push(cookie);
    for (const part of cookie.split(";")) {
      const v = part.split("=").slice(1).join("=").trim();
      if (v) out.push(v);
    }
  }
  return out;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function failedOutcome(reason: string): InvocationOutcome {
  return {
    status: "error",
    reason,
    response: null,
    logs: [],
    logsTruncated: false,
    error: { name: "InternalError", message: "the executor failed to run the script", stack: null },
    durationMs: 0,
    cpuMs: 0,
  };
}

/** Success passes the script's answer through; the rest use the error contract (docs/api.md#errors). */
export function toResponse(outcome: InvocationOutcome, redactor: Redactor, dropped: DroppedHeader[] = []): Response {
  const r = outcome.response;
  if (outcome.status === "success" && r) {
    const headers = scriptHeaders(r.headers, dropped);
    const nullBody = r.status === 204 || r.status === 304 || r.status === 205;
    return new Response(nullBody ? null : (r.body as Uint8Array<ArrayBuffer>), { status: r.status, headers });
  }
  const reason = String(outcome.reason);
  switch (outcome.status) {
    case "timeout":
      return new PiCloudError("timeout", `the script ran out of its ${reason.replace("_", " ")} budget`, {
        details: { reason },
      }).toResponse();
    case "budget_exceeded":
      return new PiCloudError("budget_exceeded", `the script exceeded a budget: ${reason}`, {
        details: { reason },
      }).toResponse();
    default: {
      const e = outcome.error;
      const message = e ? `${e.name}: ${redactor.text(e.message)}` : `the script failed (${reason})`;
      return new PiCloudError("script_error", message, { details: { reason } }).toResponse();
    }
  }
}
