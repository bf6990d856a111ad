import { createHash } from "node:crypto";
import { CLUSTER_ROUTES, PiCloudError, type ResolvedScript, type ScriptSourceProvider } from "@picloud/shared";
import { ManagerAnswerError, type ManagerClient } from "./manager-client.ts";

export interface HttpScriptSourceOptions {
  client: ManagerClient;
  /** A positive key or admin check is trusted this long without asking again (default 30 s). */
  verifiedTtlMs?: number;
  /** While the manager is unreachable, a positive check this recent still counts (default 10 min). */
  verifiedStaleMs?: number;
  /** A negative check is remembered this long (default 2 s): bounds the manager's load under bad keys. */
  negativeTtlMs?: number;
}

/**
 * The orchestrator's view of scripts in cluster mode: the manager's cluster routes over
 * HTTP. Wrapped by `ScriptCache`, which keeps current versions and drops them on change
 * notices. Key and admin checks are remembered briefly (by SHA-256 of the secret), and a
 * recent positive answer still counts while the manager is unreachable, so that cached
 * private scripts keep serving their known callers during a control-plane outage.
 */
export class HttpScriptSource implements ScriptSourceProvider {
  readonly #client: ManagerClient;
  readonly #okTtl: number;
  readonly #okStale: number;
  readonly #noTtl: number;
  readonly #checks = new Map<string, { valid: boolean; at: number }>();

  constructor(o: HttpScriptSourceOptions) {
    this.#client = o.client;
    this.#okTtl = o.verifiedTtlMs ?? 30_000;
    this.#okStale = o.verifiedStaleMs ?? 10 * 60_000;
    this.#noTtl = o.negativeTtlMs ?? 2_000;
  }

  async getCurrent(idOrName: string): Promise<ResolvedScript | null> {
    try {
      return await this.#client.call(CLUSTER_ROUTES.script, { params: { idOrName } });
    } catch (err) {
      if (!(err instanceof ManagerAnswerError)) throw err;
      if (err.status === 404) return null;
      throw new PiCloudError("service_unavailable", `the control plane answered ${err.status}`, {
        cause: err,
        headers: { "Retry-After": "1" },
      });
    }
  }

  verifyInvokeKey(scriptId: string, key: string): Promise<boolean> {
    return this.#check(`k:${scriptId}:${digest(key)}`, async () => {
      const r = await this.#client.call(CLUSTER_ROUTES.verifyInvokeKey, { body: { scriptId, key } });
      return r.valid;
    });
  }

  /** Whether the admin token or dashboard session is valid (checked by the manager). */
  verifyAdmin(creds: { token?: string | null; session?: string | null }): Promise<boolean> {
    if (!creds.token && !creds.session) return Promise.resolve(false);
    return this.#check(`a:${digest(creds.token ?? "")}:${digest(creds.session ?? "")}`, async () => {
      const r = await this.#client.call(CLUSTER_ROUTES.verifyAdmin, {
        body: { token: creds.token ?? undefined, session: creds.session ?? undefined },
      });
      return r.valid;
    });
  }

  async #check(key: string, ask: () => Promise<boolean>): Promise<boolean> {
    const now = Date.now();
    const hit = this.#checks.get(key);
    if (hit && now - hit.at < (hit.valid ? this.#okTtl : this.#noTtl)) return hit.valid;
    try {
      const valid = await ask();
      if (this.#checks.size >= 10_000) this.#checks.clear();
      this.#checks.set(key, { valid, at: now });
      return valid;
    } catch (err) {
      if (hit?.valid && now - hit.at < this.#okStale) return true;
      throw err instanceof PiCloudError
        ? err
        : new PiCloudError("service_unavailable", "the control plane could not check the credentials", {
            cause: err,
            headers: { "Retry-After": "1" },
          });
    }
  }
}

function digest(s: string): string {
  return createHash("sha256").update(s).digest("base64url");
}
