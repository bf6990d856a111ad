import { randomBytes } from "node:crypto";
import { compileScript } from "@picloud/executor-core";
import { type ChangeNotice, DEFAULT_CEILINGS, PiCloudError } from "@picloud/shared";
import { createTestDatabase, type TestDatabase } from "@picloud/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminAuth } from "../auth/admin-auth.ts";
import { SecretBox } from "../auth/secret-box.ts";
import { type Database, openDatabase } from "../db/database.ts";
import { InvokeKeys } from "./invoke-keys.ts";
import { ScriptService } from "./script-service.ts";

const SRC = `export default () => "hi";`;

// One contract, two drivers: real PostgreSQL (template clone) and embedded PGlite.
describe.each(["postgres", "pglite"] as const)("script service on %s", (driver) => {
  let tdb: TestDatabase | null = null;
  let database: Database;
  let service: ScriptService;
  const notices: ChangeNotice[] = [];

  beforeAll(async () => {
    if (driver === "postgres") {
      tdb = await createTestDatabase();
      database = await openDatabase({ url: tdb.url, maxConnections: 4 });
    } else {
      database = await openDatabase({ dataDir: "memory://" });
    }
    await database.migrate();
    await database.migrate(); // idempotent
    service = new ScriptService({
      db: database.db,
      compile: compileScript,
      secrets: new SecretBox(randomBytes(32)),
      ceilings: DEFAULT_CEILINGS,
      publish: (n) => notices.push(n),
    });
  });
  afterAll(async () => {
    await database?.close();
    await tdb?.drop();
  });

  it("creates, reads by id and name, and compiles", async () => {
    const s = await service.create({ name: "alpha", source: SRC, env: { TOKEN: "abc123" } });
    expect(s).toMatchObject({ name: "alpha", version: 1, envNames: ["TOKEN"], source: SRC });
    expect(await service.get(s.id)).toEqual(await service.get("alpha"));
    const resolved = await service.resolve("alpha");
    expect(resolved?.env).toEqual({ TOKEN: "abc123" });
    expect(resolved?.code).toContain("export");
    expect(notices.at(-1)).toEqual({ kind: "updated", scriptId: s.id, name: "alpha", version: 1 });
  });

  it("refuses a duplicate name with conflict, also on rename", async () => {
    await service.create({ name: "beta", source: SRC });
    await expect(service.create({ name: "beta", source: SRC })).rejects.toMatchObject({ code: "conflict" });
    await expect(service.update("alpha", { name: "beta" })).rejects.toMatchObject({ code: "conflict" });
  });

  it("refuses bad source with line and column, keeping the old version", async () => {
    const err = await service.update("beta", { source: "const = 1" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PiCloudError);
    expect((err as PiCloudError).details).toMatchObject({ line: 1 });
    expect((await service.get("beta")).version).toBe(1);
  });

  it("every update is a new version; rollback appends the old source", async () => {
    await service.create({ name: "gamma", source: SRC });
    await service.update("gamma", { source: `export default () => "two";` });
    await service.update("gamma", { description: "described" });
    const rolled = await service.rollback("gamma", 1);
    expect(rolled).toMatchObject({ version: 4, source: SRC, description: "described" });
    const versions = await service.versions("gamma");
    expect(versions.map((v) => [v.version, v.rolledBackFrom])).toEqual([
      [4, 1],
      [3, null],
      [2, null],
      [1, null],
    ]);
    await expect(service.rollback("gamma", 99)).rejects.toMatchObject({ code: "not_found" });
  });

  it("concurrent updates get consecutive versions", async () => {
    await service.create({ name: "delta", source: SRC });
    await Promise.all(
      Array.from({ length: 5 }, (_, i) => service.update("delta", { source: `export default () => ${i};` })),
    );
    expect((await service.versions("delta")).map((v) => v.version)).toEqual([6, 5, 4, 3, 2, 1]);
  });

  it("limits above the ceilings are refused", async () => {
    await expect(
      service.create({ name: "eps", source: SRC, limits: { cpuTimeMs: DEFAULT_CEILINGS.cpuTimeMs + 1 } }),
    ).rejects.toMatchObject({ code: "bad_request" });
  });

  it("lists by name with a cursor and search", async () => {
    const first = await service.list({ limit: 2 });
    expect(first.items.map((s) => s.name)).toEqual(["alpha", "beta"]);
    expect(first.total).toBeGreaterThanOrEqual(4);
    const next = await service.list({ limit: 2, cursor: first.nextCursor ?? "" });
    expect(next.items.map((s) => s.name)).toEqual(["delta", "gamma"]);
    expect((await service.list({ limit: 10, search: "amm" })).items.map((s) => s.name)).toEqual(["gamma"]);
  });

  it("deletes and notifies", async () => {
    const s = await service.get("beta");
    await service.delete("beta");
    expect(notices.at(-1)).toEqual({ kind: "deleted", scriptId: s.id, name: "beta", version: null });
    await expect(service.get("beta")).rejects.toMatchObject({ code: "not_found" });
    expect(await service.resolve("beta")).toBeNull();
  });

  it("invoke keys verify until revoked", async () => {
    const keys = new InvokeKeys(database.db);
    const s = await service.get("alpha");
    const k = await keys.create(s.id, "ci");
    expect(await keys.verify(s.id, k.key ?? "")).toBe(true);
    expect(await keys.verify(s.id, "pc_key_wrong")).toBe(false);
    await keys.revoke(s.id, k.id);
    expect(await keys.verify(s.id, k.key ?? "")).toBe(false);
  });

  it("admin token: generated once, stored as a hash; sessions", async () => {
    const { auth, generated } = await AdminAuth.init(database.db, undefined);
    expect(generated).toMatch(/^pc_admin_/);
    const again = await AdminAuth.init(database.db, undefined);
    expect(again.generated).toBeNull();
    expect(again.auth.verifyToken(generated ?? "")).toBe(true);
    expect(auth.verifyToken("pc_admin_nope")).toBe(false);
    const sess = await auth.createSession(generated ?? "");
    expect(await again.auth.verifySession(sess.id)).toBe(true);
    await auth.deleteSession(sess.id);
    expect(await auth.verifySession(sess.id)).toBe(false);
  });
});

describe("migrations", () => {
  it("two processes migrating one fresh database at once both succeed", async () => {
    const tdb = await createTestDatabase("picloud_t_mig");
    const fresh = `${tdb.name}_empty`;
    const { default: postgres } = await import("postgres");
    const url = new URL(tdb.url);
    const admin = postgres(url.toString().replace(`/${tdb.name}`, "/postgres"), { max: 1 });
    await admin.unsafe(`create database "${fresh}"`);
    await admin.end();
    url.pathname = `/${fresh}`;
    const a = await openDatabase({ url: url.toString(), maxConnections: 2 });
    const b = await openDatabase({ url: url.toString(), maxConnections: 2 });
    try {
      await Promise.all([a.migrate(), b.migrate()]);
      const rows = await a.db.execute("select count(*)::int as n from scripts" as never);
      expect(rows).toBeTruthy();
    } finally {
      await a.close();
      await b.close();
      const admin2 = postgres(url.toString().replace(`/${fresh}`, "/postgres"), { max: 1 });
      await admin2.unsafe(`drop database if exists "${fresh}" with (force)`);
      await admin2.end();
      await tdb.drop();
    }
  });
});
