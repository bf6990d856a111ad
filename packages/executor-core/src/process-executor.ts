import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import type { Duplex } from "node:stream";
import { fileURLToPath } from "node:url";
import type { Executor, ExecutorStats, InvocationOutcome, InvocationRequest, ScriptVersionRef } from "@picloud/shared";
import type { InProcessExecutorOptions } from "./in-process-executor.ts";
import { faultOutcome } from "./outcome.ts";
import { RpcExecutorClient } from "./rpc/client.ts";

/** Options of the supervised executor process. */
export interface ProcessExecutorOptions extends InProcessExecutorOptions {
  /** `--max-old-space-size` of the child (its own heap; isolates have their own limits). Default 512. */
  childHeapMb?: number;
  /** Resident-memory cap of the child, checked every second on Linux; over it, the child is killed. Default 4096. */
  maxRssMb?: number;
  /** Extra time the parent waits beyond an invocation's wall budget before it kills the child. Default 2000 ms. */
  graceMs?: number;
  /** Where the child's stdout/stderr go. Default "inherit". */
  stdio?: "inherit" | "ignore";
  /** The child's entry module (for a bundled build). Default: this package's child-main.ts. */
  childEntry?: string;
}

/** How long a call waits for a fresh child to boot before it is sent all the same. */
const BOOT_TIMEOUT_MS = 15_000;

const CHILD_MAIN = fileURLToPath(new URL("./child-main.ts", import.meta.url));

/**
 * The default executor: isolates run in a supervised child Node process (a V8 OOM in an
 * isolate may abort its host process, so the host is not the platform's). When the child
 * dies, only its in-flight invocations fail (error / executor_crashed), a new child is
 * spawned at once and later invocations go to it.
 */
export class ProcessExecutor implements Executor {
  readonly #opts: ProcessExecutorOptions;
  #child: ChildProcess | null = null;
  #client: RpcExecutorClient | null = null;
  #crashes = 0;
  #closing = false;
  #rssTimer: NodeJS.Timeout | null = null;
  #recentCrashes: number[] = [];
  #restart: () => void = () => {};
  /** Resolves once the current child answers (or its boot timed out). */
  #booting: Promise<void> | null = null;
  /** Set while a crash loop pauses the restart: resolves once the next child is spawned. */
  #respawning: Promise<void> | null = null;

  constructor(opts: ProcessExecutorOptions = {}) {
    this.#opts = opts;
    this.#spawn();
    this.#rssTimer = setInterval(() => this.#checkRss(), 1000);
    this.#rssTimer.unref();
  }

  /** The child's pid (for tests and operators). */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  #spawn(): void {
    const {
      childHeapMb = 512,
      stdio = "inherit",
      maxRssMb: _r,
      graceMs: _g,
      childEntry = CHILD_MAIN,
      ...childOpts
    } = this.#opts;
    // Unless set, the isolates' memory budget follows the child's RSS cap, with room for the
    // child's own heap and native overhead, so that a full pool is not killed for it.
    const rssCap = this.#opts.maxRssMb;
    if (rssCap !== undefined && childOpts.maxTotalMemoryMb === undefined)
      childOpts.maxTotalMemoryMb = Math.max(64, rssCap - 256);
    // A minimal environment: the child needs no secrets of the parent (database URLs etc.).
    const env: Record<string, string> = { PICLOUD_EXECUTOR_OPTIONS: JSON.stringify(childOpts) };
    for (const k of ["PATH", "TZ", "LANG", "HOME"]) if (process.env[k] !== undefined) env[k] = process.env[k] as string;
    const child = spawn(process.execPath, ["--no-node-snapshot", `--max-old-space-size=${childHeapMb}`, childEntry], {
      stdio: ["ignore", stdio, stdio, "pipe"],
      env,
    });
    const channel = child.stdio[3] as Duplex;
    let gone = (): void => {};
    const client = new RpcExecutorClient(channel, {
      graceMs: this.#opts.graceMs ?? 2000,
      deadlineReason: "executor_crashed",
      // A child that misses a deadline is wedged: kill it and start another.
      onDeadline: () => gone(),
      onLost: () => gone(),
    });
    this.#child = child;
    this.#client = client;
    // A fresh child boots (Node, isolated-vm, the runtime) before it can take work; calls
    // wait for that here, so that their deadlines measure the script, not the boot.
    const booting = client.ready(BOOT_TIMEOUT_MS).then(() => {
      if (this.#booting === booting) this.#booting = null;
    });
    this.#booting = booting;
    // The channel closing and the process exiting both mean the child is gone; the first
    // of them restarts it, so that the next invocation never meets a dead channel.
    gone = (): void => {
      channel.destroy();
      if (this.#child !== child) return;
      this.#child = null;
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      if (this.#closing) return;
      this.#crashes++;
      const now = Date.now();
      this.#recentCrashes = [...this.#recentCrashes.filter((t) => now - t < 10_000), now];
      // Restart at once; only a crash loop gets a short pause.
      if (this.#recentCrashes.length <= 5) this.#spawn();
      else {
        // Invocations meanwhile wait for the new child rather than failing at once.
        this.#respawning = new Promise<void>((resolve) => {
          setTimeout(() => {
            this.#respawning = null;
            if (!this.#closing && this.#child === null) this.#spawn();
            resolve();
          }, 1000).unref();
        });
      }
    };
    this.#restart = gone;
    child.once("exit", gone);
    channel.once("close", gone);
    child.on("error", () => {});
  }

  #checkRss(): void {
    const pid = this.#child?.pid;
    if (!pid || process.platform !== "linux") return;
    try {
      const pages = Number(readFileSync(`/proc/${pid}/statm`, "utf8").split(" ")[1]);
      if ((pages * 4096) / 1024 / 1024 > (this.#opts.maxRssMb ?? 4096)) this.#child?.kill("SIGKILL");
    } catch {
      // the child is gone already
    }
  }

  async invoke(req: InvocationRequest): Promise<InvocationOutcome> {
    if (this.#closing) return faultOutcome("error", "executor_unavailable", "the executor is closed");
    if (this.#client?.closed) this.#restart();
    if (!this.#child && this.#respawning) await this.#respawning;
    if (this.#booting) await this.#booting;
    if (this.#closing) return faultOutcome("error", "executor_unavailable", "the executor is closed");
    if (!this.#client || !this.#child)
      return faultOutcome("error", "executor_unavailable", "the executor process is restarting");
    return this.#client.invoke(req);
  }

  evict(scriptId: string, keepVersion?: number): void {
    this.#client?.evict(scriptId, keepVersion);
  }

  async prepare(script: ScriptVersionRef, memoryMb: number): Promise<void> {
    if (!this.#closing) await this.#client?.prepare(script, memoryMb);
  }

  async ready(): Promise<boolean> {
    return (await this.#client?.ready()) ?? false;
  }

  stats(): ExecutorStats {
    const s = this.#client?.stats() ?? { isolatesWarm: 0, isolatesBusy: 0, scriptsLoaded: 0, crashes: 0 };
    return { ...s, crashes: this.#crashes };
  }

  async close(): Promise<void> {
    this.#closing = true;
    if (this.#rssTimer) clearInterval(this.#rssTimer);
    const child = this.#child;
    await this.#client?.close();
    if (child && child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => child.kill("SIGKILL"), 2000);
        child.once("exit", () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}
