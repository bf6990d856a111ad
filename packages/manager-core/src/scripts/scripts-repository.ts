import { isUuid, type ScriptLimits, type Visibility } from "@picloud/shared";
import { and, asc, desc, eq, gt, ilike, sql } from "drizzle-orm";
import type { Db } from "../db/database.ts";
import { scripts, scriptVersions } from "../db/schema.ts";

export type ScriptRow = typeof scripts.$inferSelect;
export type VersionRow = typeof scriptVersions.$inferSelect;

export interface NewScript {
  id: string;
  name: string;
  description: string;
  visibility: Visibility;
  limits: ScriptLimits;
  env: Record<string, string>;
  source: string;
  compiled: string;
}

export interface ScriptPatch {
  name?: string;
  description?: string;
  visibility?: Visibility;
  limits?: ScriptLimits;
  env?: Record<string, string>;
}

/** Scripts and their immutable versions. Every write that makes a version is one transaction. */
export class ScriptsRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  async find(idOrName: string): Promise<ScriptRow | null> {
    const where = isUuid(idOrName) ? eq(scripts.id, idOrName) : eq(scripts.name, idOrName);
    const [row] = await this.#db.select().from(scripts).where(where);
    return row ?? null;
  }

  /** The script with its current version's source and compiled code. */
  async findCurrent(idOrName: string): Promise<{ script: ScriptRow; version: VersionRow } | null> {
    const where = isUuid(idOrName) ? eq(scripts.id, idOrName) : eq(scripts.name, idOrName);
    const [row] = await this.#db
      .select({ script: scripts, version: scriptVersions })
      .from(scripts)
      .innerJoin(
        scriptVersions,
        and(eq(scriptVersions.scriptId, scripts.id), eq(scriptVersions.version, scripts.currentVersion)),
      )
      .where(where);
    return row ?? null;
  }

  async create(s: NewScript): Promise<ScriptRow> {
    return this.#db.transaction(async (tx) => {
      const [row] = await tx
        .insert(scripts)
        .values({
          id: s.id,
          name: s.name,
          description: s.description,
          visibility: s.visibility,
          limits: s.limits,
          env: s.env,
          currentVersion: 1,
        })
        .returning();
      await tx.insert(scriptVersions).values({ scriptId: s.id, version: 1, source: s.source, compiled: s.compiled });
      if (!row) throw new Error("insert returned no row");
      return row;
    });
  }

  /**
   * Applies a patch; with `newVersion` appends a version and makes it current. The row
   * is locked so concurrent updates get consecutive version numbers.
   */
  async update(
    id: string,
    patch: ScriptPatch,
    newVersion?: { source: string; compiled: string; rolledBackFrom?: number },
  ): Promise<ScriptRow | null> {
    return this.#db.transaction(async (tx) => {
      const [current] = await tx.select().from(scripts).where(eq(scripts.id, id)).for("update");
      if (!current) return null;
      let version = current.currentVersion;
      if (newVersion) {
        version += 1;
        await tx.insert(scriptVersions).values({
          scriptId: id,
          version,
          source: newVersion.source,
          compiled: newVersion.compiled,
          rolledBackFrom: newVersion.rolledBackFrom ?? null,
        });
      }
      const [row] = await tx
        .update(scripts)
        .set({ ...patch, currentVersion: version, updatedAt: new Date() })
        .where(eq(scripts.id, id))
        .returning();
      return row ?? null;
    });
  }

  async delete(id: string): Promise<boolean> {
    const rows = await this.#db.delete(scripts).where(eq(scripts.id, id)).returning({ id: scripts.id });
    return rows.length > 0;
  }

  /** Scripts by name; `after` is the last name of the previous page. */
  async list(opts: { search?: string; limit: number; after?: string }): Promise<{ rows: ScriptRow[]; total: number }> {
    const filters = [];
    if (opts.search) filters.push(ilike(scripts.name, `%${opts.search.replace(/[\\%_]/g, (m) => `\\${m}`)}%`));
    const base = filters.length ? and(...filters) : undefined;
    const pageWhere = opts.after
      ? base
        ? and(base, gt(scripts.name, opts.after))
        : gt(scripts.name, opts.after)
      : base;
    const rows = await this.#db.select().from(scripts).where(pageWhere).orderBy(asc(scripts.name)).limit(opts.limit);
    const [count] = await this.#db.select({ n: sql<number>`count(*)::int` }).from(scripts).where(base);
    return { rows, total: Number(count?.n ?? 0) };
  }

  async versions(id: string): Promise<VersionRow[]> {
    return this.#db
      .select()
      .from(scriptVersions)
      .where(eq(scriptVersions.scriptId, id))
      .orderBy(desc(scriptVersions.version));
  }

  async version(id: string, version: number): Promise<VersionRow | null> {
    const [row] = await this.#db
      .select()
      .from(scriptVersions)
      .where(and(eq(scriptVersions.scriptId, id), eq(scriptVersions.version, version)));
    return row ?? null;
  }
}
