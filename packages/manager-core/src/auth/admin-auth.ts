import { CREDENTIAL_PREFIXES, isSessionId, PiCloudError } from "@picloud/shared";
import { and, eq, gt, lt } from "drizzle-orm";
import type { Db } from "../db/database.ts";
import { sessions, settings } from "../db/schema.ts";
import { matchesHash, newSecret, sha256 } from "./tokens.ts";

const ADMIN_HASH_KEY = "admin_token_sha256";
const SESSION_TTL_MS = 7 * 24 * 3600 * 1000;

/**
 * Admin credentials: the token from configuration, or one generated on first start and
 * kept only as a hash; dashboard sessions keyed by a random id kept only as a hash.
 */
export class AdminAuth {
  readonly #db: Db;
  #hash = "";

  private constructor(db: Db) {
    this.#db = db;
  }

  /**
   * Loads or creates the admin token. `generated` is the new token when one was made:
   * the caller prints it once; it is never stored or logged anywhere else.
   */
  static async init(db: Db, configured: string | undefined): Promise<{ auth: AdminAuth; generated: string | null }> {
    const auth = new AdminAuth(db);
    if (configured) {
      auth.#hash = sha256(configured);
      return { auth, generated: null };
    }
    const [row] = await db.select().from(settings).where(eq(settings.key, ADMIN_HASH_KEY));
    if (row) {
      auth.#hash = row.value;
      return { auth, generated: null };
    }
    const token = newSecret(CREDENTIAL_PREFIXES.admin);
    const hash = sha256(token);
    // Two processes starting at once: the first insert wins, the other reads it back.
    await db.insert(settings).values({ key: ADMIN_HASH_KEY, value: hash }).onConflictDoNothing();
    const [stored] = await db.select().from(settings).where(eq(settings.key, ADMIN_HASH_KEY));
    auth.#hash = stored?.value ?? hash;
    return { auth, generated: stored?.value === hash ? token : null };
  }

  verifyToken(token: string): boolean {
    return token.length > 0 && matchesHash(token, this.#hash);
  }

  /** Exchanges the admin token for a session id (the cookie value). */
  async createSession(token: string): Promise<{ id: string; expiresAt: Date }> {
    if (!this.verifyToken(token)) throw new PiCloudError("unauthorized", "invalid admin token");
    const id = newSecret(CREDENTIAL_PREFIXES.session);
    const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
    await this.#db.insert(sessions).values({ idHash: sha256(id), expiresAt });
    // Opportunistic cleanup keeps the table small without a job.
    await this.#db.delete(sessions).where(lt(sessions.expiresAt, new Date()));
    return { id, expiresAt };
  }

  async verifySession(id: string): Promise<boolean> {
    if (!isSessionId(id)) return false;
    const [row] = await this.#db
      .select({ idHash: sessions.idHash })
      .from(sessions)
      .where(and(eq(sessions.idHash, sha256(id)), gt(sessions.expiresAt, new Date())));
    return Boolean(row);
  }

  async deleteSession(id: string): Promise<void> {
    await this.#db.delete(sessions).where(eq(sessions.idHash, sha256(id)));
  }
}
