import {
  EXECUTION_STATUSES,
  type ExecutionLog,
  type ExecutionLogSummary,
  type ExecutionStatus,
  isUuid,
  type ListPage,
  PiCloudError,
  type RequestSummary,
  type ResponseSummary,
  type ScriptStats,
  toJsonLenient,
} from "@picloud/shared";
import { and, desc, eq, gte, lt, type SQL, sql } from "drizzle-orm";
import { type Db, resultRows } from "../db/database.ts";
import { executionLogs } from "../db/schema.ts";
import { decodeCursor, encodeCursor, uuidLowerBound } from "./uuid-bounds.ts";

/** Page size when none is given. */
export const LOGS_DEFAULT_LIMIT = 50;
/** Largest page; a larger `limit` is clamped to it. */
export const LOGS_MAX_LIMIT = 200;
/** Rows per INSERT statement inside `insertBatch` (a larger batch is split). */
const INSERT_CHUNK = 1000;

/** Statuses that count as failed runs on the dashboard. */
const NON_SUCCESS: readonly ExecutionStatus[] = EXECUTION_STATUSES.filter((s) => s !== "success");

export interface ListLogsOptions {
  /** Rows per page: default 50, clamped to [0, 200]. `0` answers an empty page (nextCursor null). */
  limit?: number | undefined;
  /** Rows to skip (shallow pages). Ignored when `cursor` is given: a cursor page starts right after the cursor. */
  offset?: number | undefined;
  status?: ExecutionStatus | undefined;
  /** Inclusive lower bound on the execution time (UUIDv7 time prefix of the id). */
  since?: Date | undefined;
  /** Exclusive upper bound on the execution time (UUIDv7 time prefix of the id). */
  until?: Date | undefined;
  /** Opaque keyset cursor from a previous page's `nextCursor`. */
  cursor?: string | undefined;
}

/**
 * A bad `cursor`, `status`, `since` or `until`: a `PiCloudError` with code `bad_request`, so
 * the HTTP error handler answers 400 in the error contract with `message`.
 */
export class InvalidLogsQueryError extends PiCloudError {
  override readonly name: string = "InvalidLogsQueryError";
  readonly field: "cursor" | "status" | "since" | "until";
  constructor(field: "cursor" | "status" | "since" | "until", message: string) {
    super("bad_request", message, { details: { field } });
    this.field = field;
  }
}

const t = executionLogs;
const idDescNullsLast = sql`${t.id} desc nulls last`;

/** Columns of a list row: bodies and captured logs left out (their sizes stay). */
const summaryColumns = {
  id: t.id,
  scriptId: t.scriptId,
  scriptName: t.scriptName,
  version: t.version,
  trigger: t.trigger,
  status: t.status,
  reason: t.reason,
  request: sql<unknown>`(${t.request} - 'body')`,
  response: sql<unknown>`(${t.response} - 'body')`,
  logsTruncated: t.logsTruncated,
  logCount: sql<number>`(case jsonb_typeof(${t.logs}) when 'array' then jsonb_array_length(${t.logs}) else 0 end)`,
  error: t.error,
  durationMs: t.durationMs,
  cpuMs: t.cpuMs,
  nodeId: t.nodeId,
  createdAt: t.createdAt,
};

/**
 * Execution logs in PostgreSQL (or PGlite): batched idempotent inserts for the sink,
 * index-served pages for the logs API, dashboard counters and retention.
 *
 * Every read is served by `(script_id, id DESC)`, `(script_id, status, id DESC)` or the
 * primary key: ids are UUIDv7, so id order is time order and time bounds are id bounds.
 */
export class ExecutionLogsRepository {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /**
   * Inserts many rows per statement (one JSON parameter expanded by `jsonb_to_recordset`, which
   * measured about twice as fast as `json_to_recordset` and three times a multi-row VALUES),
   * `ON CONFLICT (id) DO NOTHING`: a retried batch never duplicates a row. Resolves to the
   * number of rows actually inserted (duplicates excluded).
   */
  async insertBatch(logs: readonly ExecutionLog[]): Promise<number> {
    let inserted = 0;
    for (let i = 0; i < logs.length; i += INSERT_CHUNK) {
      const chunk = logs.slice(i, i + INSERT_CHUNK);
      const payload = `[${chunk.map(serializeLog).join(",")}]`;
      const rows = await this.#rows<{ n: number }>(sql`
        with ins as (
          insert into execution_logs (id, script_id, script_name, version, trigger, status, reason, request,
            response, logs, logs_truncated, error, duration_ms, cpu_ms, node_id, created_at)
          select x."id", x."scriptId", x."scriptName", x."version", x."trigger", x."status", x."reason",
            x."request", x."response", coalesce(x."logs", '[]'::jsonb), coalesce(x."logsTruncated", false),
            x."error", coalesce(x."durationMs", 0), coalesce(x."cpuMs", 0), x."nodeId",
            coalesce(x."createdAt", now())
          from jsonb_to_recordset(${payload}::jsonb) as x("id" uuid, "scriptId" uuid, "scriptName" text,
            "version" integer, "trigger" text, "status" text, "reason" text, "request" jsonb, "response" jsonb,
            "logs" jsonb, "logsTruncated" boolean, "error" jsonb, "durationMs" real, "cpuMs" real,
            "nodeId" text, "createdAt" timestamptz)
          on conflict (id) do nothing
          returning 1
        )
        select count(*)::int as n from ins`);
      inserted += Number(rows[0]?.n ?? 0);
    }
    return inserted;
  }

  /**
   * One page of a script's executions, newest first. `total` is left out: an exact count
   * at a million rows is not cheap (use `countCapped` for a bounded one).
   */
  async list(scriptId: string, opts: ListLogsOptions = {}): Promise<ListPage<ExecutionLogSummary>> {
    const q = this.listQuery(scriptId, opts);
    if (!q) return { items: [], nextCursor: null };
    const rows = await q.query;
    const items = rows.slice(0, q.limit).map(toSummary);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > q.limit && last ? encodeCursor(last.id) : null };
  }

  /**
   * The query `list` runs (for EXPLAIN in tests and benchmarks), or null when the answer
   * is empty without asking (limit 0, or a script id that is not a UUID). A deferred join:
   * the page's ids come from an index-only range on `(script_id[, status], id DESC)`, so a
   * deep offset skips index entries rather than heap rows; then the page's rows are fetched
   * by primary key.
   * @internal
   */
  listQuery(scriptId: string, opts: ListLogsOptions = {}) {
    const limit = clampLimit(opts.limit);
    let cursorId: string | null = null;
    if (opts.cursor !== undefined && opts.cursor !== "") {
      cursorId = decodeCursor(opts.cursor);
      if (!cursorId) throw new InvalidLogsQueryError("cursor", "cursor is not valid");
    }
    const conds = filterConditions(scriptId, opts);
    if (limit === 0 || !conds) return null;
    if (cursorId) conds.push(lt(t.id, cursorId));
    const offset = cursorId ? 0 : clampOffset(opts.offset);

    const page = this.#db
      .select({ pageId: sql<string>`${t.id}`.as("page_id") })
      .from(t)
      .where(and(...conds))
      // NULLS LAST as in the indexes (drizzle-kit made them `id DESC NULLS LAST`): a plain
      // `id DESC` means NULLS FIRST, which only a backward primary-key scan provides, and
      // the planner would then walk the primary key filtering by script.
      .orderBy(idDescNullsLast)
      .limit(limit + 1)
      .offset(offset)
      .as("page");
    const query = this.#db.select(summaryColumns).from(page).innerJoin(t, eq(t.id, page.pageId)).orderBy(desc(t.id));
    return { query, limit, offset };
  }

  /** The whole record with its captured logs and bodies, or null. */
  async get(executionId: string): Promise<ExecutionLog | null> {
    if (!isUuid(executionId)) return null;
    const [row] = await this.getQuery(executionId);
    return row ? toLog(row) : null;
  }

  /**
   * The query `get` runs (for EXPLAIN in tests and benchmarks).
   * @internal
   */
  getQuery(executionId: string) {
    return this.#db.select().from(t).where(eq(t.id, executionId)).limit(1);
  }

  /**
   * A count of a script's executions (same filters as `list`), stopping at `cap`:
   * `{count, capped}` where `capped` says there are at least `cap`.
   */
  async countCapped(
    scriptId: string,
    opts: Pick<ListLogsOptions, "status" | "since" | "until"> & { cap?: number } = {},
  ): Promise<{ count: number; capped: boolean }> {
    const cap = Math.max(1, Math.min(1_000_000, Math.trunc(opts.cap ?? 10_000)));
    const conds = filterConditions(scriptId, opts);
    if (!conds) return { count: 0, capped: false };
    const inner = this.#db
      .select({ one: sql`1`.as("one") })
      .from(t)
      .where(and(...conds))
      .limit(cap + 1)
      .as("c");
    const [row] = await this.#db.select({ n: sql<number>`count(*)::int`.mapWith(Number) }).from(inner);
    const n = row?.n ?? 0;
    return n > cap ? { count: cap, capped: true } : { count: n, capped: false };
  }

  /**
   * Per script (`ScriptStats`): its last run, and its runs and non-success runs since `since`
   * (typically 24 hours ago). One query:
   * a LATERAL newest-row seek on `(script_id, id DESC)`, an index range count on it, and
   * a count on `(script_id, status, id DESC)` seeking each non-success status. Scripts
   * without runs get `{lastRun: null, runs24h: 0, errors24h: 0}`.
   */
  async statsForScripts(scriptIds: readonly string[], since: Date): Promise<Map<string, ScriptStats>> {
    const out = new Map<string, ScriptStats>();
    const ids = [...new Set(scriptIds.filter(isUuid).map((s) => s.toLowerCase()))];
    for (const id of scriptIds) out.set(id, { lastRun: null, runs24h: 0, errors24h: 0 });
    if (ids.length === 0) return out;
    const rows = await this.#rows<{
      script_id: string;
      last_status: ExecutionStatus | null;
      last_at: number | string | null;
      runs: number;
      errors: number;
    }>(this.statsQuery(ids, since));
    const byLower = new Map(rows.map((r) => [r.script_id, r]));
    for (const id of scriptIds) {
      const r = byLower.get(id.toLowerCase());
      if (!r) continue;
      out.set(id, {
        lastRun:
          r.last_status && r.last_at !== null
            ? { status: r.last_status, createdAt: new Date(Number(r.last_at)).toISOString() }
            : null,
        runs24h: Number(r.runs),
        errors24h: Number(r.errors),
      });
    }
    return out;
  }

  /**
   * The query `statsForScripts` runs (for EXPLAIN in tests).
   * @internal
   */
  statsQuery(scriptIds: readonly string[], since: Date): SQL {
    const bound = uuidLowerBound(dateBound("since", since) ?? 0);
    const idArray = `{${scriptIds.filter(isUuid).join(",")}}`;
    const bad = `{${NON_SUCCESS.join(",")}}`;
    return sql`
      select s.id::text as script_id, l.status as last_status,
        (extract(epoch from l.created_at) * 1000)::float8 as last_at,
        (select count(*) from execution_logs e
          where e.script_id = s.id and e.id >= ${bound}::uuid)::int as runs,
        (select count(*) from execution_logs e
          where e.script_id = s.id and e.status = any(${bad}::text[]) and e.id >= ${bound}::uuid)::int as errors
      from unnest(${idArray}::uuid[]) as s(id)
      left join lateral (
        select e.status, e.created_at from execution_logs e
        where e.script_id = s.id order by e.id desc nulls last limit 1
      ) l on true`;
  }

  /**
   * Deletes one batch (at most `batchSize` rows) of executions made before `cutoff`,
   * oldest first, by primary-key range `id < uuid(cutoff)`. Resolves to the rows deleted;
   * call again until it answers less than `batchSize` (see `RetentionJob`).
   */
  async deleteOlderThan(cutoff: Date, batchSize: number): Promise<number> {
    const rows = await this.#rows<{ n: number }>(this.deleteQuery(cutoff, batchSize));
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * The statement `deleteOlderThan` runs (for EXPLAIN in tests).
   * @internal
   */
  deleteQuery(cutoff: Date, batchSize: number): SQL {
    const n = Math.max(1, Math.trunc(batchSize));
    const bound = uuidLowerBound(dateBound("until", cutoff) ?? 0);
    return sql`
      with doomed as (
        select id from execution_logs where id < ${bound}::uuid order by id limit ${n}
      ), del as (
        delete from execution_logs where id in (select id from doomed) returning 1
      )
      select count(*)::int as n from del`;
  }

  async #rows<T>(query: SQL): Promise<T[]> {
    return resultRows<T>(await this.#db.execute(query));
  }
}

/** WHERE terms shared by `list` and `countCapped`; null when no row can match (a non-UUID script id). */
function filterConditions(scriptId: string, opts: Pick<ListLogsOptions, "status" | "since" | "until">): SQL[] | null {
  if (opts.status !== undefined && !(EXECUTION_STATUSES as readonly string[]).includes(opts.status)) {
    throw new InvalidLogsQueryError("status", `status must be one of ${EXECUTION_STATUSES.join(", ")}`);
  }
  const since = dateBound("since", opts.since);
  const until = dateBound("until", opts.until);
  if (!isUuid(scriptId)) return null;
  const conds: SQL[] = [eq(t.scriptId, scriptId)];
  if (opts.status !== undefined) conds.push(eq(t.status, opts.status));
  if (since !== null) conds.push(gte(t.id, uuidLowerBound(since)));
  if (until !== null) conds.push(lt(t.id, uuidLowerBound(until)));
  return conds;
}

function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return LOGS_DEFAULT_LIMIT;
  return Math.min(LOGS_MAX_LIMIT, Math.max(0, Math.trunc(limit)));
}

function clampOffset(offset: number | undefined): number {
  if (offset === undefined || !Number.isFinite(offset)) return 0;
  return Math.max(0, Math.trunc(offset));
}

function dateBound(field: "since" | "until", d: Date | undefined): number | null {
  if (d === undefined) return null;
  const ms = d instanceof Date ? d.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) throw new InvalidLogsQueryError(field, `${field} is not a valid date`);
  return ms;
}

function json<T>(v: unknown): T {
  return (typeof v === "string" ? JSON.parse(v) : v) as T;
}

function iso(v: Date | string): string {
  return (v instanceof Date ? v : new Date(v)).toISOString();
}

type SummaryRow = {
  [K in keyof typeof summaryColumns]: unknown;
} & { id: string; createdAt: Date };

function toSummary(row: SummaryRow): ExecutionLogSummary {
  const request = json<Omit<RequestSummary, "body">>(row.request);
  const response = json<Omit<ResponseSummary, "body"> | null>(row.response);
  return {
    id: row.id,
    scriptId: row.scriptId as string,
    scriptName: row.scriptName as string,
    version: row.version as number,
    trigger: row.trigger as string,
    status: row.status as ExecutionStatus,
    reason: row.reason as string,
    request: { ...request, body: null },
    response: response ? { ...response, body: null } : null,
    logCount: Number(row.logCount),
    logsTruncated: row.logsTruncated as boolean,
    error: json(row.error) ?? null,
    durationMs: row.durationMs as number,
    cpuMs: row.cpuMs as number,
    nodeId: row.nodeId as string,
    createdAt: iso(row.createdAt),
  };
}

function toLog(row: typeof executionLogs.$inferSelect): ExecutionLog {
  return {
    id: row.id,
    scriptId: row.scriptId,
    scriptName: row.scriptName,
    version: row.version,
    trigger: row.trigger,
    status: row.status,
    reason: row.reason,
    request: json(row.request),
    response: json(row.response) ?? null,
    logs: json(row.logs) ?? [],
    logsTruncated: row.logsTruncated,
    error: json(row.error) ?? null,
    durationMs: row.durationMs,
    cpuMs: row.cpuMs,
    nodeId: row.nodeId,
    createdAt: iso(row.createdAt),
  };
}

/**
 * One log as JSON text PostgreSQL accepts: values JSON cannot carry (cycles, BigInt)
 * are replaced rather than failing the whole batch, and the escapes jsonb and text
 * refuse (`\u0000`, lone surrogates) become U+FFFD.
 */
export function serializeLog(log: ExecutionLog): string {
  const s = toJsonLenient(log);
  return s.includes("\\u") ? s.replace(BAD_ESCAPE, "$1\\ufffd") : s;
}

/** `\u0000` or a `\ud800`-`\udfff` escape (JSON.stringify escapes only lone surrogates), not itself escaped. */
const BAD_ESCAPE = /(?<!\\)((?:\\\\)*)\\u(?:0000|d[89a-f][0-9a-f]{2})/gi;
