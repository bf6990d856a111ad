import { z } from "zod";
import type { ScriptLimits } from "./budgets.ts";

export const VISIBILITIES = ["public", "private"] as const;
export type Visibility = (typeof VISIBILITIES)[number];

/** Unique script names: lowercase slugs, usable in a URL path segment. */
export const SCRIPT_NAME_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
export const ScriptNameSchema = z
  .string()
  .regex(SCRIPT_NAME_RE, "must be a slug: 1-63 of a-z, 0-9 and '-', not starting or ending with '-'");

/** Env var names as scripts read them. */
export const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** The current version of a script, ready to run, as the orchestrator gets it. */
export interface ResolvedScript {
  id: string;
  name: string;
  version: number;
  /** Compiled ES module. */
  code: string;
  visibility: Visibility;
  limits: ScriptLimits;
  /** Decrypted env values. Never logged. */
  env: Record<string, string>;
}

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

/** Sent when a script's current version changes or the script goes away. */
export interface ChangeNotice {
  kind: "updated" | "deleted";
  scriptId: string;
  name: string;
  /** The new current version (for `updated`). */
  version: number | null;
}

export type ChangeListener = (notice: ChangeNotice) => void;

/** A stream of change notices (in-process emitter, or Postgres LISTEN/NOTIFY). */
export interface ChangeFeed {
  subscribe(listener: ChangeListener): () => void;
}

/** A simple in-process ChangeFeed that is also the publisher. */
export class LocalChangeFeed implements ChangeFeed {
  readonly #listeners = new Set<ChangeListener>();
  subscribe(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  publish(notice: ChangeNotice): void {
    for (const l of this.#listeners) l(notice);
  }
}
