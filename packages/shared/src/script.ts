import { z } from "zod";
import { ScriptLimitsSchema } from "./budgets.ts";

export const VISIBILITIES = ["public", "private"] as const;
export type Visibility = (typeof VISIBILITIES)[number];

/** Unique script names: lowercase slugs, usable in a URL path segment. */
export const SCRIPT_NAME_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
export const ScriptNameSchema = z
  .string()
  .regex(SCRIPT_NAME_RE, "must be a slug: 1-63 of a-z, 0-9 and '-', not starting or ending with '-'");

/** Env var names as scripts read them. */
export const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** The current version of a script, ready to run, as the orchestrator gets it (cluster protocol). */
export const ResolvedScriptSchema = z.object({
  id: z.string(),
  name: z.string(),
  version: z.number().int(),
  /** Compiled ES module. */
  code: z.string(),
  visibility: z.enum(VISIBILITIES),
  limits: ScriptLimitsSchema,
  /** Decrypted env values. Never logged. */
  env: z.record(z.string(), z.string()),
});
export type ResolvedScript = z.infer<typeof ResolvedScriptSchema>;

/**
 * How the orchestrator reaches the control plane for scripts. In single-process mode the
 * manager implements it directly; in cluster mode an HTTP client with a cache does.
 */
export interface ScriptSourceProvider {
  /** The current version by id or name; null when there is no such script. */
  getCurrent(idOrName: string): Promise<ResolvedScript | null>;
  /** Whether `key` is a live invoke key of the script. */
  verifyInvokeKey(scriptId: string, key: string): Promise<boolean>;
}

/** Sent when a script's current version changes or the script goes away (NOTIFY payload, SSE event). */
export const ChangeNoticeSchema = z.object({
  kind: z.enum(["updated", "deleted"]),
  scriptId: z.string(),
  name: z.string(),
  /** The new current version (for `updated`). */
  version: z.number().int().nullable(),
});
export type ChangeNotice = z.infer<typeof ChangeNoticeSchema>;

/** A notice from its JSON text (a NOTIFY payload, an SSE event's data); null when it is not one. */
export function parseChangeNotice(text: string): ChangeNotice | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = ChangeNoticeSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

export type ChangeListener = (notice: ChangeNotice) => void;

/** A stream of change notices (in-process emitter, PostgreSQL LISTEN/NOTIFY, the manager's SSE stream). */
export interface ChangeFeed {
  subscribe(listener: ChangeListener): () => void;
  /**
   * Told whenever notices may have been missed (a feed reconnected, a subscriber fell too
   * far behind): whoever caches on the strength of notices must treat everything as stale.
   */
  onResync(listener: () => void): () => void;
}

/** A simple in-process ChangeFeed that is also the publisher. It never misses a notice. */
export class LocalChangeFeed implements ChangeFeed {
  readonly #listeners = new Set<ChangeListener>();
  subscribe(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  onResync(): () => void {
    return () => {};
  }
  publish(notice: ChangeNotice): void {
    for (const l of this.#listeners) l(notice);
  }
}
