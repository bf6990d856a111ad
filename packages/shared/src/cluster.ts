import { z } from "zod";
import { ExecutionLogSchema, RejectedRowSchema } from "./execution.ts";
import { ResolvedScriptSchema } from "./script.ts";

/**
 * The cluster protocol (docs/cluster.md "The cluster protocol"): how orchestrators reach the
 * manager. One contract for both sides: the manager's routes (manager-core `clusterRoutes`)
 * validate requests with these schemas, the orchestrator's client (orchestrator-core
 * `ManagerClient`) validates answers with them. Every route takes
 * `Authorization: Bearer <cluster token>`; errors answer in the error contract.
 */

/** Where the manager serves the cluster routes. Not part of the public API: Caddy never routes it. */
export const CLUSTER_PREFIX = "/internal/cluster";

export const VerifyInvokeKeyRequestSchema = z.object({ scriptId: z.string(), key: z.string() });
export type VerifyInvokeKeyRequest = z.infer<typeof VerifyInvokeKeyRequestSchema>;

/** The admin token, or the value of a dashboard session cookie, to be checked by the manager. */
export const VerifyAdminRequestSchema = z.object({ token: z.string().optional(), session: z.string().optional() });
export type VerifyAdminRequest = z.infer<typeof VerifyAdminRequestSchema>;

export const VerifiedSchema = z.object({ valid: z.boolean() });
export type Verified = z.infer<typeof VerifiedSchema>;

/** A batch of execution logs from an orchestrator's sink. */
export const LogBatchRequestSchema = z.object({ logs: z.array(ExecutionLogSchema) });
export type LogBatchRequest = z.infer<typeof LogBatchRequestSchema>;

/**
 * The answer to a log batch, sent only once every row that can be stored is stored
 * (idempotent by id: `inserted` counts rows new to the database, so a retry after a lost
 * answer says 0). `rejected` names the rows that can never be stored, by index in the
 * request, and why; all the others are stored.
 */
export const LogBatchResponseSchema = z.object({
  received: z.number().int().nonnegative(),
  inserted: z.number().int().nonnegative(),
  rejected: z.array(RejectedRowSchema),
});
export type LogBatchResponse = z.infer<typeof LogBatchResponseSchema>;

/** One route of the protocol: method, path under `CLUSTER_PREFIX` (`:name` for a parameter), schemas. */
export interface ClusterRoute {
  readonly method: "GET" | "POST";
  readonly path: string;
  readonly request?: z.ZodType;
  readonly response?: z.ZodType;
}

function route<const R extends ClusterRoute>(r: R): R {
  return r;
}

export const CLUSTER_ROUTES = {
  /** The current version of a script, ready to run (env decrypted); 404 `not_found` when there is none. */
  script: route({ method: "GET", path: "/scripts/:idOrName", response: ResolvedScriptSchema }),
  /** Whether a key is a live invoke key of the script. */
  verifyInvokeKey: route({
    method: "POST",
    path: "/invoke-keys/verify",
    request: VerifyInvokeKeyRequestSchema,
    response: VerifiedSchema,
  }),
  /** Whether a token or session is the admin's (who may call private scripts and mark test runs). */
  verifyAdmin: route({
    method: "POST",
    path: "/admin/verify",
    request: VerifyAdminRequestSchema,
    response: VerifiedSchema,
  }),
  /** Stores a batch of execution logs; 413 beyond the manager's row or byte limit, 503 when the database fails. */
  executionLogs: route({
    method: "POST",
    path: "/execution-logs",
    request: LogBatchRequestSchema,
    response: LogBatchResponseSchema,
  }),
  /** Server-sent events: `CHANGE_EVENTS`, and comment heartbeats when idle. */
  changes: route({ method: "GET", path: "/changes" }),
} as const;

/**
 * Events of the change stream: `ready` once subscribed (everything cached before may be
 * stale), `change` with a `ChangeNotice` as data (`ChangeNoticeSchema`), `resync` when notices may have been missed.
 */
export const CHANGE_EVENTS = { ready: "ready", change: "change", resync: "resync" } as const;

/** The parameters a route path names, e.g. `{ idOrName: string }` for `/scripts/:idOrName`. */
export type PathParams<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? { [K in Name]: string } & PathParams<`/${Rest}`>
  : P extends `${string}:${infer Name}`
    ? { [K in Name]: string }
    : Record<never, never>;

/** The body a route takes (its request schema's input). */
export type RouteRequest<R extends ClusterRoute> = R["request"] extends z.ZodType ? z.input<R["request"]> : never;
/** The answer a route gives (its response schema's output). */
export type RouteResponse<R extends ClusterRoute> = R["response"] extends z.ZodType ? z.output<R["response"]> : never;

/** The full path of a route (`CLUSTER_PREFIX` included), its `:params` filled in and encoded. */
export function clusterPath(path: string, params: Readonly<Record<string, string>> = {}): string {
  return (
    CLUSTER_PREFIX +
    path.replace(/:(\w+)/g, (_, name: string) => {
      const value = params[name];
      if (value === undefined) throw new Error(`cluster path ${path}: missing parameter ${name}`);
      return encodeURIComponent(value);
    })
  );
}
