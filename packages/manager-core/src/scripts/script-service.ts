import {
  type Budgets,
  type ChangeNotice,
  type CreateScriptInput,
  limitsOverCeiling,
  PiCloudError,
  type ResolvedScript,
  type ScriptDetail,
  type ScriptVersionView,
  type ScriptView,
  type UpdateScriptInput,
  uuidv7,
} from "@picloud/shared";
import type { SecretBox } from "../auth/secret-box.ts";
import type { Db } from "../db/database.ts";
import { sqlState, UNIQUE_VIOLATION } from "../db/errors.ts";
import { type ScriptPatch, type ScriptRow, ScriptsRepository, type VersionRow } from "./scripts-repository.ts";

/**
 * Turns source into the stored compiled module; throws (or rejects with) a `bad_request`
 * PiCloudError with line/column. The binaries pass a CompilerProcess (a crash is contained).
 */
export type CompileFn = (source: string, opts: { filename: string }) => { code: string } | Promise<{ code: string }>;

export interface ScriptServiceOptions {
  db: Db;
  compile: CompileFn;
  secrets: SecretBox;
  ceilings: Budgets;
  /** Told about every change of a current version or a delete. */
  publish: (notice: ChangeNotice) => void;
}

/** The control plane's script operations: validation, compilation, versions, env sealing. */
export class ScriptService {
  readonly repo: ScriptsRepository;
  readonly #o: ScriptServiceOptions;

  constructor(o: ScriptServiceOptions) {
    this.#o = o;
    this.repo = new ScriptsRepository(o.db);
  }

  async create(input: CreateScriptInput): Promise<ScriptDetail> {
    this.#checkLimits(input.limits);
    const compiled = await this.#compile(input.source, input.name, 1);
    const id = uuidv7();
    try {
      const row = await this.repo.create({
        id,
        name: input.name,
        description: input.description ?? "",
        visibility: input.visibility ?? "public",
        limits: input.limits ?? {},
        env: this.#seal(id, {}, input.env ?? {}),
        source: input.source,
        compiled,
      });
      this.#o.publish({ kind: "updated", scriptId: row.id, name: row.name, version: row.currentVersion });
      return { ...toView(row), source: input.source };
    } catch (err) {
      throw conflictOr(err, input.name);
    }
  }

  async get(idOrName: string): Promise<ScriptDetail> {
    const found = await this.repo.findCurrent(idOrName);
    if (!found) throw notFound(idOrName);
    return { ...toView(found.script), source: found.version.source };
  }

  async update(idOrName: string, input: UpdateScriptInput): Promise<ScriptDetail> {
    const current = await this.repo.findCurrent(idOrName);
    if (!current) throw notFound(idOrName);
    this.#checkLimits(input.limits);
    const { script } = current;
    const patch: ScriptPatch = {};
    if (input.name !== undefined) patch.name = input.name;
    if (input.description !== undefined) patch.description = input.description;
    if (input.visibility !== undefined) patch.visibility = input.visibility;
    if (input.limits !== undefined) patch.limits = input.limits;
    if (input.env !== undefined) patch.env = this.#seal(script.id, script.env, input.env);
    const sourceChanged = input.source !== undefined && input.source !== current.version.source;
    const newVersion =
      sourceChanged && input.source !== undefined
        ? {
            source: input.source,
            compiled: await this.#compile(input.source, input.name ?? script.name, script.currentVersion + 1),
          }
        : undefined;
    // Limits, env and visibility change what a run sees, so they bump the version too:
    // every update makes a new immutable version (docs/design.md#changes-to-the-first-designs-contracts).
    const version = newVersion ?? { source: current.version.source, compiled: current.version.compiled };
    let row: ScriptRow | null;
    try {
      row = await this.repo.update(script.id, patch, version);
    } catch (err) {
      throw conflictOr(err, input.name ?? script.name);
    }
    if (!row) throw notFound(idOrName);
    this.#o.publish({ kind: "updated", scriptId: row.id, name: row.name, version: row.currentVersion });
    if (row.name !== script.name) {
      // The old name no longer resolves: tell caches keyed by name.
      this.#o.publish({ kind: "deleted", scriptId: row.id, name: script.name, version: null });
    }
    return { ...toView(row), source: version.source };
  }

  async delete(idOrName: string): Promise<void> {
    const script = await this.repo.find(idOrName);
    if (!script || !(await this.repo.delete(script.id))) throw notFound(idOrName);
    this.#o.publish({ kind: "deleted", scriptId: script.id, name: script.name, version: null });
  }

  async list(opts: { search?: string; limit: number; cursor?: string }) {
    const after = opts.cursor ? Buffer.from(opts.cursor, "base64url").toString("utf8") : undefined;
    const { rows, total } = await this.repo.list({
      limit: opts.limit + 1,
      ...(opts.search ? { search: opts.search } : {}),
      ...(after ? { after } : {}),
    });
    const page = rows.slice(0, opts.limit);
    const last = page.at(-1);
    const nextCursor = rows.length > opts.limit && last ? Buffer.from(last.name).toString("base64url") : null;
    return { items: page.map(toView), nextCursor, total };
  }

  async versions(idOrName: string): Promise<ScriptVersionView[]> {
    const script = await this.repo.find(idOrName);
    if (!script) throw notFound(idOrName);
    return (await this.repo.versions(script.id)).map((v) => versionView(v, false));
  }

  async version(idOrName: string, version: number): Promise<ScriptVersionView> {
    const script = await this.repo.find(idOrName);
    if (!script) throw notFound(idOrName);
    const row = await this.repo.version(script.id, version);
    if (!row) throw new PiCloudError("not_found", `script ${script.name} has no version ${version}`);
    return versionView(row, true);
  }

  /** Makes an old version current by appending a copy of it as a new version. */
  async rollback(idOrName: string, version: number): Promise<ScriptDetail> {
    const script = await this.repo.find(idOrName);
    if (!script) throw notFound(idOrName);
    const old = await this.repo.version(script.id, version);
    if (!old) throw new PiCloudError("not_found", `script ${script.name} has no version ${version}`);
    const row = await this.repo.update(
      script.id,
      {},
      { source: old.source, compiled: old.compiled, rolledBackFrom: version },
    );
    if (!row) throw notFound(idOrName);
    this.#o.publish({ kind: "updated", scriptId: row.id, name: row.name, version: row.currentVersion });
    return { ...toView(row), source: old.source };
  }

  /** The current version ready to run, env decrypted (for the orchestrator). */
  async resolve(idOrName: string): Promise<ResolvedScript | null> {
    const found = await this.repo.findCurrent(idOrName);
    if (!found) return null;
    const { script, version } = found;
    const env: Record<string, string> = {};
    for (const [k, sealed] of Object.entries(script.env)) env[k] = this.#o.secrets.decrypt(sealed, script.id);
    return {
      id: script.id,
      name: script.name,
      version: script.currentVersion,
      code: version.compiled,
      visibility: script.visibility,
      limits: script.limits,
      env,
    };
  }

  async #compile(source: string, name: string, version: number): Promise<string> {
    return (await this.#o.compile(source, { filename: `${name}@v${version}.ts` })).code;
  }

  #checkLimits(limits: CreateScriptInput["limits"]): void {
    if (!limits) return;
    const over = limitsOverCeiling(limits, this.#o.ceilings);
    if (over.length) {
      const detail = over.map((k) => `${k} ${limits[k]} > ${this.#o.ceilings[k]}`).join(", ");
      throw new PiCloudError("bad_request", `limits above the admin ceilings: ${detail}`, {
        details: { fields: over, ceilings: Object.fromEntries(over.map((k) => [k, this.#o.ceilings[k]])) },
      });
    }
  }

  /** Merges env changes into the sealed map: a value is sealed, `null` removes the name. */
  #seal(
    scriptId: string,
    existing: Record<string, string>,
    changes: Record<string, string | null>,
  ): Record<string, string> {
    const out = { ...existing };
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) delete out[k];
      else out[k] = this.#o.secrets.encrypt(v, scriptId);
    }
    return out;
  }
}

export function toView(row: ScriptRow): ScriptView {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    version: row.currentVersion,
    visibility: row.visibility,
    limits: row.limits,
    envNames: Object.keys(row.env).sort(),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    endpoint: `/api/execute/${row.name}`,
  };
}

function versionView(v: VersionRow, withSource: boolean): ScriptVersionView {
  return {
    version: v.version,
    createdAt: v.createdAt.toISOString(),
    rolledBackFrom: v.rolledBackFrom,
    ...(withSource ? { source: v.source } : {}),
  };
}

function notFound(idOrName: string): PiCloudError {
  return new PiCloudError("not_found", `no script ${JSON.stringify(idOrName)}`);
}

function conflictOr(err: unknown, name: string): unknown {
  if (sqlState(err) === UNIQUE_VIOLATION) {
    return new PiCloudError("conflict", `a script named ${JSON.stringify(name)} already exists`, {
      details: { field: "name", name },
    });
  }
  return err;
}
