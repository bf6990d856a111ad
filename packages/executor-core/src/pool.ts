import type { ScriptVersionRef } from "@picloud/shared";
import type { HostFetcher } from "./invocation-state.ts";
import { Sandbox } from "./sandbox.ts";
import { SandboxShell } from "./sandbox-shell.ts";

/** Unused isolates with the runtime loaded, kept ready so that a cold start only compiles its module. */
const SPARES = 2;

/** Warm-pool sizing. Every field has a default suited to one modest machine. */
export interface PoolOptions {
  /** Isolates one hot script version may grow to (concurrent invocations of it). Default 4. */
  maxIsolatesPerVersion?: number;
  /** Isolates alive in total; the least recently used idle one goes first. Default 2000. */
  maxIsolates?: number;
  /** An isolate idle this long is disposed. Default 5 minutes. */
  idleTimeoutMs?: number;
  /** Total heap of all isolates (as last measured); beyond it LRU idle isolates go. Default 2048. */
  maxTotalMemoryMb?: number;
  /**
   * Let a warm isolate whose last run was quick run the next one synchronously on the
   * executor's thread (about half the executor CPU per call). Off by default: while such a
   * run lasts, every other invocation of the process waits — a script that turns CPU-bound
   * stalls its neighbours for up to its CPU budget, once. Turn on where scripts are trusted
   * or CPU budgets are small.
   */
  syncFastPath?: boolean;
}

type Waiter = () => void;

/**
 * Warm isolates keyed by script id and version. One isolate runs one invocation at a
 * time; a version never runs in another version's isolate and scripts never share one.
 */
export class IsolatePool {
  readonly #scripts = new Map<string, Map<number, Sandbox[]>>();
  readonly #waiters = new Map<string, Waiter[]>();
  readonly #creating = new Map<string, number>();
  /** Isolates being readied ahead of a version's first call, by version key. */
  readonly #preparing = new Map<string, Promise<void>>();
  /** Evictions per script, so that a preparation that raced one is not kept. */
  readonly #evictions = new Map<string, number>();
  #closed = false;
  /** Shells for the heap limit last asked for; refilled in the background after each use. */
  readonly #spares: SandboxShell[] = [];
  #spareMb = 0;
  #filling = false;
  /** Each isolate's size as the memory budget last saw it. */
  readonly #counted = new WeakMap<Sandbox, number>();
  readonly #fetcher: HostFetcher;
  readonly #perVersion: number;
  readonly #maxIsolates: number;
  readonly #idleMs: number;
  readonly #maxBytes: number;
  readonly #sweeper: NodeJS.Timeout;
  readonly #syncFastPath: boolean;

  constructor(fetcher: HostFetcher, opts: PoolOptions = {}) {
    this.#fetcher = fetcher;
    this.#syncFastPath = opts.syncFastPath ?? false;
    this.#perVersion = Math.max(1, opts.maxIsolatesPerVersion ?? 4);
    this.#maxIsolates = Math.max(1, opts.maxIsolates ?? 2000);
    this.#idleMs = opts.idleTimeoutMs ?? 5 * 60_000;
    this.#maxBytes = (opts.maxTotalMemoryMb ?? 2048) * 1024 * 1024;
    this.#sweeper = setInterval(() => this.sweep(), Math.max(50, Math.min(this.#idleMs / 2, 30_000)));
    this.#sweeper.unref();
  }

  #list(id: string, version: number): Sandbox[] {
    let versions = this.#scripts.get(id);
    if (!versions) {
      versions = new Map();
      this.#scripts.set(id, versions);
    }
    let list = versions.get(version);
    if (!list) {
      list = [];
      versions.set(version, list);
    }
    return list;
  }

  *#all(): Generator<Sandbox> {
    for (const versions of this.#scripts.values()) for (const list of versions.values()) yield* list;
  }

  /**
   * A sandbox for the script version, marked busy: an idle warm one, a new one while the
   * version is under its isolate cap, or the next one released. Null when `deadline`
   * passes first. Rejects with a ModuleError when the script does not load.
   */
  async acquire(script: ScriptVersionRef, memoryMb: number, deadline: number): Promise<Sandbox | null> {
    const key = `${script.id}\0${script.version}`;
    for (;;) {
      const list = this.#list(script.id, script.version);
      for (const sb of list) {
        // Same version but other code or heap limit (limits changed): not reusable.
        if (sb.idle && !sb.matches(script, memoryMb)) sb.dispose();
      }
      this.#prune(script.id, script.version);
      const idle = list.find((s) => s.idle);
      if (idle) {
        idle.reserve();
        return idle;
      }
      // The version is being readied (it was just saved): take that isolate, not a second one.
      const preparing = this.#preparing.get(key);
      if (preparing) {
        await preparing;
        continue;
      }
      const creating = this.#creating.get(key) ?? 0;
      if (list.length + creating < this.#perVersion) {
        this.#creating.set(key, creating + 1);
        try {
          this.#makeRoom(1);
          const sb = await this.#create(script, memoryMb);
          sb.reserve();
          this.#list(script.id, script.version).push(sb);
          return sb;
        } finally {
          this.#creating.set(key, (this.#creating.get(key) ?? 1) - 1);
        }
      }
      const waited = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(
          () => {
            const ws = this.#waiters.get(key) ?? [];
            const i = ws.indexOf(wake);
            if (i >= 0) ws.splice(i, 1);
            resolve(false);
          },
          Math.max(0, deadline - Date.now()),
        );
        const wake = (): void => {
          clearTimeout(timer);
          resolve(true);
        };
        const ws = this.#waiters.get(key) ?? [];
        ws.push(wake);
        this.#waiters.set(key, ws);
      });
      if (!waited) return null;
    }
  }

  /**
   * Creates one idle isolate for a version that has none, ahead of its first invocation;
   * resolves once it is there (or could not be made). The module is compiled and linked,
   * not evaluated: its top-level code still runs inside the first invocation (its logs and
   * env belong there). Failures are left to that call.
   */
  prepare(script: ScriptVersionRef, memoryMb: number): Promise<void> {
    const key = `${script.id}\0${script.version}`;
    const preparing = this.#preparing.get(key);
    if (preparing) return preparing;
    if (this.#closed || this.#creating.get(key)) return Promise.resolve();
    if (
      this.#scripts
        .get(script.id)
        ?.get(script.version)
        ?.some((s) => !s.dead)
    )
      return Promise.resolve();
    const evictions = this.#evictions.get(script.id) ?? 0;
    this.#creating.set(key, (this.#creating.get(key) ?? 0) + 1);
    const done = (async () => {
      try {
        this.#makeRoom(1);
        const sb = await this.#create(script, memoryMb);
        // Closed, or the script changed again meanwhile: this version is no longer wanted.
        if (this.#closed || (this.#evictions.get(script.id) ?? 0) !== evictions) sb.dispose();
        else this.#list(script.id, script.version).push(sb);
      } catch {
        // does not load: its first invocation says why
      } finally {
        this.#creating.set(key, (this.#creating.get(key) ?? 1) - 1);
        this.#preparing.delete(key);
        this.#prune(script.id, script.version);
      }
    })();
    this.#preparing.set(key, done);
    return done;
  }

  /** A new sandbox, from a spare shell when one with this heap limit is ready. */
  async #create(script: ScriptVersionRef, memoryMb: number): Promise<Sandbox> {
    if (memoryMb !== this.#spareMb) {
      for (const sh of this.#spares.splice(0)) sh.dispose();
      this.#spareMb = memoryMb;
    }
    const shell = this.#spares.pop();
    this.#fill();
    return Sandbox.create(script, memoryMb, this.#fetcher, shell, { syncFastPath: this.#syncFastPath });
  }

  /** Tops the spares up to SPARES, one at a time, off the caller's path. */
  #fill(): void {
    if (this.#filling || this.#closed) return;
    this.#filling = true;
    setImmediate(async () => {
      try {
        while (!this.#closed && this.#spares.length < SPARES) {
          const mb = this.#spareMb;
          const sh = await SandboxShell.create(mb, this.#fetcher);
          if (this.#closed || mb !== this.#spareMb) sh.dispose();
          else this.#spares.push(sh);
        }
      } catch {
        // out of memory or closing: the next create builds its own
      } finally {
        this.#filling = false;
      }
    });
  }

  /** Returns a sandbox after a run; dead or retired ones are dropped. */
  release(sb: Sandbox): void {
    sb.release();
    this.#prune(sb.scriptId, sb.version);
    const key = `${sb.scriptId}\0${sb.version}`;
    this.#waiters.get(key)?.shift()?.();
    // The pool's total only grows when a run re-measures its isolate (sampled, see Sandbox):
    // walk every isolate only then, not after each of a hot script's runs.
    if (this.#counted.get(sb) !== sb.heapBytes) {
      this.#counted.set(sb, sb.heapBytes);
      this.#enforceMemory();
    }
  }

  #prune(id: string, version: number): void {
    const versions = this.#scripts.get(id);
    const list = versions?.get(version);
    if (!versions || !list) return;
    for (const s of list) if (s.dead && !s.busy) s.dispose(); // frees the isolate if not yet done
    const alive = list.filter((s) => !s.dead);
    if (alive.length === 0 && !this.#creating.get(`${id}\0${version}`)) versions.delete(version);
    else versions.set(version, alive);
    if (versions.size === 0) this.#scripts.delete(id);
  }

  /** Disposes LRU idle isolates until `n` more fit under the count cap. */
  #makeRoom(n: number): void {
    let count = 0;
    for (const _ of this.#all()) count++;
    if (count + n <= this.#maxIsolates) return;
    const idle = [...this.#all()].filter((s) => s.idle).sort((a, b) => a.lastUsed - b.lastUsed);
    for (const sb of idle.slice(0, count + n - this.#maxIsolates)) this.#drop(sb);
  }

  #enforceMemory(): void {
    let total = 0;
    for (const sb of this.#all()) total += sb.heapBytes;
    if (total <= this.#maxBytes) return;
    const idle = [...this.#all()].filter((s) => s.idle).sort((a, b) => a.lastUsed - b.lastUsed);
    for (const sb of idle) {
      if (total <= this.#maxBytes) break;
      total -= sb.heapBytes;
      this.#drop(sb);
    }
  }

  #drop(sb: Sandbox): void {
    sb.dispose();
    this.#prune(sb.scriptId, sb.version);
  }

  /** Disposes isolates idle for longer than the idle timeout. */
  sweep(now = Date.now()): void {
    for (const sb of [...this.#all()]) if (!sb.busy && now - sb.lastUsed >= this.#idleMs) this.#drop(sb);
  }

  /** Drops a script's isolates (all versions, or all but `keepVersion`); busy ones go when released. */
  evict(scriptId: string, keepVersion?: number): void {
    this.#evictions.set(scriptId, (this.#evictions.get(scriptId) ?? 0) + 1);
    const versions = this.#scripts.get(scriptId);
    if (!versions) return;
    for (const [v, list] of versions) {
      if (v === keepVersion) continue;
      for (const sb of list) sb.retire();
      this.#prune(scriptId, v);
    }
  }

  stats(): { isolatesWarm: number; isolatesBusy: number; scriptsLoaded: number } {
    let warm = 0;
    let busy = 0;
    let loaded = 0;
    for (const versions of this.#scripts.values()) {
      for (const list of versions.values()) {
        for (const s of list) if (s.dead && !s.busy) s.dispose(); // frees the isolate if not yet done
        const alive = list.filter((s) => !s.dead);
        if (alive.length > 0) loaded++;
        warm += alive.length;
        busy += alive.filter((s) => s.busy).length;
      }
    }
    return { isolatesWarm: warm, isolatesBusy: busy, scriptsLoaded: loaded };
  }

  close(): void {
    this.#closed = true;
    for (const sh of this.#spares.splice(0)) sh.dispose();
    clearInterval(this.#sweeper);
    for (const sb of [...this.#all()]) sb.dispose();
    this.#scripts.clear();
  }
}
