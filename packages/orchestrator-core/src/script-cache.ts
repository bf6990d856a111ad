import type { ChangeFeed, ResolvedScript, ScriptSourceProvider } from "@picloud/shared";

/**
 * Current versions kept in memory, keyed by id and by name, dropped the moment a change
 * notice arrives, and all marked expired when the feed says notices may have been missed
 * (`onResync`). A short TTL bounds staleness should a notice ever be lost unannounced.
 *
 * When the source fails (the control plane is unreachable in cluster mode), an expired
 * entry is served as it is rather than failing the request, and the source is asked again
 * only after `retryMs`; entries dropped by a notice are never served stale.
 */
export class ScriptCache {
  readonly #source: ScriptSourceProvider;
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #entries = new Map<string, { script: ResolvedScript; at: number }>();
  /** Bumped on each notice so a lookup that raced a change does not store stale data. */
  #epoch = 0;
  readonly #onChange: (scriptId: string, version: number | null, name: string) => void;
  readonly #retryMs: number;
  #staleServed = 0;
  /** Lookups in flight, so that concurrent ones for a key (in one epoch) share one fetch. */
  readonly #inflight = new Map<string, { epoch: number; promise: Promise<ResolvedScript | null> }>();

  constructor(opts: {
    source: ScriptSourceProvider;
    changes?: ChangeFeed;
    ttlMs?: number;
    max?: number;
    /** Told about each change (the orchestrator evicts old isolates and readies the new version). */
    onChange?: (scriptId: string, version: number | null, name: string) => void;
    /** After a failed lookup, a stale entry is served for this long before the source is asked again (default 1 s). */
    retryMs?: number;
  }) {
    this.#retryMs = opts.retryMs ?? 1000;
    this.#source = opts.source;
    this.#ttlMs = opts.ttlMs ?? 30_000;
    this.#max = opts.max ?? 10_000;
    this.#onChange = opts.onChange ?? (() => {});
    // Notices may have been missed (the change stream came back): everything is suspect.
    opts.changes?.onResync(() => this.invalidateAll());
    opts.changes?.subscribe((n) => {
      this.#epoch++;
      // A notice can arrive after a lookup already fetched the version it announces: such an
      // entry is current and stays (so that it can still be served if the source goes away).
      const cached = this.#entries.get(n.scriptId);
      const current =
        n.kind === "updated" && n.version !== null && cached !== undefined && cached.script.version >= n.version;
      if (!current) this.#forget(n.scriptId, n.name);
      this.#onChange(n.scriptId, n.kind === "deleted" ? null : n.version, n.name);
    });
  }

  async get(idOrName: string): Promise<ResolvedScript | null> {
    const hit = this.#entries.get(idOrName);
    if (hit && Date.now() - hit.at < this.#ttlMs) return hit.script;
    const epoch = this.#epoch;
    let script: ResolvedScript | null;
    try {
      script = await this.#fetch(idOrName, epoch);
    } catch (err) {
      // Still the same entry (no notice dropped it meanwhile): serve it stale.
      if (hit && this.#entries.get(idOrName) === hit) {
        this.#staleServed++;
        hit.at = Math.max(hit.at, Date.now() - this.#ttlMs + this.#retryMs);
        return hit.script;
      }
      throw err;
    }
    if (!script && hit && this.#entries.get(idOrName) === hit) this.#forget(hit.script.id, hit.script.name);
    if (script && epoch === this.#epoch) {
      if (this.#entries.size >= this.#max) this.#entries.clear();
      const entry = { script, at: Date.now() };
      this.#entries.set(script.id, entry);
      this.#entries.set(script.name, entry);
    }
    return script;
  }

  #fetch(idOrName: string, epoch: number): Promise<ResolvedScript | null> {
    const running = this.#inflight.get(idOrName);
    if (running && running.epoch === epoch) return running.promise;
    const entry = { epoch, promise: this.#source.getCurrent(idOrName) };
    this.#inflight.set(idOrName, entry);
    const done = (): void => {
      if (this.#inflight.get(idOrName) === entry) this.#inflight.delete(idOrName);
    };
    entry.promise.then(done, done);
    return entry.promise;
  }

  #forget(id: string, name: string): void {
    const e = this.#entries.get(id);
    this.#entries.delete(id);
    this.#entries.delete(name);
    if (e) this.#entries.delete(e.script.name);
  }

  /**
   * Marks every entry expired (notices may have been missed: the change stream came back):
   * the next lookups ask the source, and the entries stay only as a fallback for when it fails.
   */
  invalidateAll(): void {
    this.#epoch++;
    for (const e of this.#entries.values()) e.at = Number.NEGATIVE_INFINITY;
  }

  /** Lookups answered with an expired entry because the source failed. */
  get staleServed(): number {
    return this.#staleServed;
  }

  size(): number {
    return this.#entries.size;
  }
}
