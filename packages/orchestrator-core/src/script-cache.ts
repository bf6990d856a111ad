import type { ChangeFeed, ResolvedScript, ScriptSourceProvider } from "@picloud/shared";

/**
 * Current versions kept in memory, keyed by id and by name, dropped the moment a change
 * notice arrives. A short TTL bounds staleness should a notice ever be missed.
 */
export class ScriptCache {
  readonly #source: ScriptSourceProvider;
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #entries = new Map<string, { script: ResolvedScript; at: number }>();
  /** Bumped on each notice so a lookup that raced a change does not store stale data. */
  #epoch = 0;
  readonly #onChange: (scriptId: string, version: number | null) => void;

  constructor(opts: {
    source: ScriptSourceProvider;
    changes?: ChangeFeed;
    ttlMs?: number;
    max?: number;
    /** Told about each change (the orchestrator evicts old isolates). */
    onChange?: (scriptId: string, version: number | null) => void;
  }) {
    this.#source = opts.source;
    this.#ttlMs = opts.ttlMs ?? 30_000;
    this.#max = opts.max ?? 10_000;
    this.#onChange = opts.onChange ?? (() => {});
    opts.changes?.subscribe((n) => {
      this.#epoch++;
      this.#forget(n.scriptId, n.name);
      this.#onChange(n.scriptId, n.kind === "deleted" ? null : n.version);
    });
  }

  async get(idOrName: string): Promise<ResolvedScript | null> {
    const hit = this.#entries.get(idOrName);
    if (hit && Date.now() - hit.at < this.#ttlMs) return hit.script;
    const epoch = this.#epoch;
    const script = await this.#source.getCurrent(idOrName);
    if (script && epoch === this.#epoch) {
      if (this.#entries.size >= this.#max) this.#entries.clear();
      const entry = { script, at: Date.now() };
      this.#entries.set(script.id, entry);
      this.#entries.set(script.name, entry);
    }
    return script;
  }

  #forget(id: string, name: string): void {
    const e = this.#entries.get(id);
    this.#entries.delete(id);
    this.#entries.delete(name);
    if (e) this.#entries.delete(e.script.name);
  }

  size(): number {
    return this.#entries.size;
  }
}
