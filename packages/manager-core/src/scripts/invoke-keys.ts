import { CREDENTIAL_PREFIXES, type InvokeKeyView, isInvokeKey, PiCloudError, uuidv7 } from "@picloud/shared";
import { and, desc, eq, isNull } from "drizzle-orm";
import { matchesHash, newSecret, sha256 } from "../auth/tokens.ts";
import type { Db } from "../db/database.ts";
import { invokeKeys } from "../db/schema.ts";

/** Invoke keys of private scripts: shown once on creation, stored as SHA-256, revocable. */
export class InvokeKeys {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  async create(scriptId: string, name: string): Promise<InvokeKeyView> {
    const key = newSecret(CREDENTIAL_PREFIXES.invokeKey);
    const row = { id: uuidv7(), scriptId, name, prefix: key.slice(0, 12), keyHash: sha256(key) };
    const [saved] = await this.#db.insert(invokeKeys).values(row).returning();
    if (!saved) throw new Error("insert returned no row");
    return { id: saved.id, name: saved.name, prefix: saved.prefix, createdAt: saved.createdAt.toISOString(), key };
  }

  async list(scriptId: string): Promise<InvokeKeyView[]> {
    const rows = await this.#db
      .select()
      .from(invokeKeys)
      .where(and(eq(invokeKeys.scriptId, scriptId), isNull(invokeKeys.revokedAt)))
      .orderBy(desc(invokeKeys.createdAt));
    return rows.map((r) => ({ id: r.id, name: r.name, prefix: r.prefix, createdAt: r.createdAt.toISOString() }));
  }

  async revoke(scriptId: string, keyId: string): Promise<void> {
    const rows = await this.#db
      .update(invokeKeys)
      .set({ revokedAt: new Date() })
      .where(and(eq(invokeKeys.id, keyId), eq(invokeKeys.scriptId, scriptId), isNull(invokeKeys.revokedAt)))
      .returning({ id: invokeKeys.id });
    if (rows.length === 0) throw new PiCloudError("not_found", `no live invoke key ${keyId}`);
  }

  async verify(scriptId: string, key: string): Promise<boolean> {
    if (!isInvokeKey(key)) return false;
    const hash = sha256(key);
    const [row] = await this.#db
      .select({ keyHash: invokeKeys.keyHash })
      .from(invokeKeys)
      .where(and(eq(invokeKeys.keyHash, hash), eq(invokeKeys.scriptId, scriptId), isNull(invokeKeys.revokedAt)));
    // The lookup is by hash; the final comparison is constant-time all the same.
    return Boolean(row && matchesHash(key, row.keyHash));
  }
}
