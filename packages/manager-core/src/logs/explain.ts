import { type SQL, type SQLWrapper, sql } from "drizzle-orm";
import { type Db, resultRows } from "../db/database.ts";

/** One node of a PostgreSQL `EXPLAIN (FORMAT JSON)` plan (the fields the checks use). */
export interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  "Actual Rows"?: number;
  "Heap Fetches"?: number;
  Plans?: PlanNode[];
}

/** The plan of a query (drizzle builder or `sql`), with `EXPLAIN (ANALYZE)` when asked. */
export async function explainPlan(
  db: Db,
  query: SQLWrapper | SQL,
  opts: { analyze?: boolean } = {},
): Promise<PlanNode> {
  const head = opts.analyze ? sql.raw("explain (analyze, format json) ") : sql.raw("explain (format json) ");
  const rows = resultRows<Record<string, unknown>>(await db.execute(sql`${head}${query}`));
  const raw = rows[0]?.["QUERY PLAN"];
  const parsed = (typeof raw === "string" ? JSON.parse(raw) : raw) as { Plan: PlanNode }[];
  const plan = parsed[0]?.Plan;
  if (!plan) throw new Error("EXPLAIN answered no plan");
  return plan;
}

/** Every node of a plan, depth first. */
export function planNodes(n: PlanNode, out: PlanNode[] = []): PlanNode[] {
  out.push(n);
  for (const c of n.Plans ?? []) planNodes(c, out);
  return out;
}
