import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type MinimalLogger, PiCloudError, safeLog } from "@picloud/shared";
import type { CompileOptions } from "./compile.ts";

/** A message to the compiler child (see compile-worker.ts). */
export type CompileRequest =
  | { id: number; kind: "compile"; source: string; filename: string }
  | { id: number; kind: "ping" };

/** The child's answer: compiled, refused (the source's fault, in the error contract), or crashed. */
export type CompileReply =
  | { id: number; kind: "ok"; code: string }
  | { id: number; kind: "rejected"; message: string; details: Record<string, unknown> | null }
  | { id: number; kind: "crashed"; message: string };

export interface CompilerProcessOptions {
  /** A compile still running after this long is stopped (its process killed): a 400. Default 10 s. */
  timeoutMs?: number;
  /** `--max-old-space-size` of the child. Default 256. */
  childHeapMb?: number;
  /** Told when the child dies while compiling a source (for logs). */
  onCrash?: (info: { reason: string; filename: string }) => void;
  /** Without `onCrash`: such a crash is logged here as a warning. */
  logger?: MinimalLogger;
}

interface Job {
  msg: CompileRequest;
  filename: string;
  resolve: (code: string) => void;
  reject: (err: unknown) => void;
  timeoutMs: number;
}

const WORKER = fileURLToPath(new URL("./compile-worker.ts", import.meta.url));

/**
 * Compiles saved scripts in a supervised child process, one source at a time, so that a
 * source that crashes or wedges esbuild takes down only that child: the save answers 400,
 * a fresh child serves the next save, and `ready()` tells whether compiling works
 * (docs/security.md, "The compiler"). esbuild's own service runs inside the child's process
 * group, which is killed whole on a timeout.
 */
export class CompilerProcess {
  readonly #o: CompilerProcessOptions;
  #child: ChildProcess | null = null;
  /** What the current child wrote on stderr (esbuild's crash report lands here), capped. */
  #stderr = "";
  #queue: Job[] = [];
  #current: (Job & { timer: NodeJS.Timeout }) | null = null;
  #seq = 0;
  #closed = false;
  #recentCrashes: number[] = [];
  #respawnTimer: NodeJS.Timeout | null = null;
  readonly #stats = { compiles: 0, crashes: 0, timeouts: 0 };

  constructor(o: CompilerProcessOptions = {}) {
    const { logger } = o;
    this.#o = {
      ...o,
      onCrash:
        o.onCrash ?? ((info) => safeLog(logger, "warn", { ...info }, "the compiler crashed on a source; restarted")),
    };
    this.#spawn();
  }

  /** Compiles like `compileScript`; a crash or runaway of the compiler on this source is a 400 too. */
  compile(source: string, opts: CompileOptions = {}): Promise<{ code: string }> {
    const filename = opts.filename ?? "script.ts";
    return this.#enqueue({ id: 0, kind: "compile", source, filename }, this.#o.timeoutMs ?? 10_000).then((code) => ({
      code,
    }));
  }

  /** Whether the compiler answers (esbuild included) within `timeoutMs`. */
  async ready(timeoutMs = 3000): Promise<boolean> {
    if (this.#closed || !this.#child) return false;
    try {
      await this.#enqueue({ id: 0, kind: "ping" }, timeoutMs);
      return true;
    } catch {
      return false;
    }
  }

  stats(): { compiles: number; crashes: number; timeouts: number } {
    return { ...this.#stats };
  }

  /** The child's pid (tests). */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#respawnTimer) clearTimeout(this.#respawnTimer);
    const err = new PiCloudError("service_unavailable", "the compiler is shutting down");
    for (const j of this.#queue.splice(0)) j.reject(err);
    if (this.#current) {
      clearTimeout(this.#current.timer);
      this.#current.reject(err);
      this.#current = null;
    }
    this.#kill();
  }

  #enqueue(msg: CompileRequest, timeoutMs: number): Promise<string> {
    if (this.#closed) return Promise.reject(new PiCloudError("service_unavailable", "the compiler is shut down"));
    return new Promise<string>((resolve, reject) => {
      const filename = msg.kind === "compile" ? msg.filename : "(ping)";
      this.#queue.push({ msg: { ...msg, id: ++this.#seq }, filename, resolve, reject, timeoutMs });
      this.#next();
    });
  }

  #next(): void {
    if (this.#current || !this.#child?.connected) return;
    const job = this.#queue.shift();
    if (!job) return;
    const child = this.#child;
    const timer = setTimeout(() => {
      if (this.#current?.msg.id !== job.msg.id) return;
      this.#current = null;
      this.#stats.timeouts++;
      job.reject(
        job.msg.kind === "ping"
          ? new PiCloudError("service_unavailable", "the compiler did not answer")
          : new PiCloudError(
              "bad_request",
              `compiling this source took longer than ${job.timeoutMs} ms: the compiler was stopped`,
            ),
      );
      // A wedged compiler is replaced; the exit handler starts the next one.
      this.#kill();
    }, job.timeoutMs);
    this.#current = { ...job, timer };
    child.send(job.msg, (err) => {
      if (err && this.#current?.msg.id === job.msg.id) this.#kill();
    });
  }

  #onReply(child: ChildProcess, reply: CompileReply): void {
    const job = this.#current;
    if (child !== this.#child || !job || job.msg.id !== reply.id) return;
    clearTimeout(job.timer);
    this.#current = null;
    if (reply.kind === "ok") {
      if (job.msg.kind === "compile") this.#stats.compiles++;
      job.resolve(reply.code);
    } else if (reply.kind === "rejected") {
      job.reject(new PiCloudError("bad_request", reply.message, reply.details ? { details: reply.details } : {}));
    } else {
      // The child is exiting: no further job goes to it.
      this.#failCrashed(job, reply.message);
      this.#retire(child);
      return;
    }
    this.#next();
  }

  #failCrashed(job: Job, message: string): void {
    const fatal = /fatal error: ([^\n]+)/.exec(this.#stderr)?.[1]?.trim();
    const reason = fatal ?? message;
    this.#o.onCrash?.({ reason, filename: job.filename });
    job.reject(
      job.msg.kind === "ping"
        ? new PiCloudError("service_unavailable", `the compiler is restarting (${reason})`)
        : new PiCloudError("bad_request", `the compiler could not handle this source (it crashed: ${reason})`, {
            details: { compiler: "crashed", reason },
          }),
    );
  }

  #spawn(): void {
    if (this.#closed) return;
    // A minimal environment: the child needs none of the parent's secrets.
    const env: Record<string, string> = {};
    for (const k of ["PATH", "TZ", "LANG", "HOME", "ESBUILD_BINARY_PATH"]) {
      const v = process.env[k];
      if (v !== undefined) env[k] = v;
    }
    const child = spawn(process.execPath, [`--max-old-space-size=${this.#o.childHeapMb ?? 256}`, WORKER], {
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      env,
      // Its own process group, so that a kill reaches esbuild's service process as well.
      detached: true,
    });
    this.#child = child;
    this.#stderr = "";
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (d: string) => {
      if (this.#child === child && this.#stderr.length < 16_384) this.#stderr += d.slice(0, 16_384);
    });
    child.on("message", (m: CompileReply) => this.#onReply(child, m));
    child.on("error", () => {});
    child.once("exit", () => this.#onExit(child));
    // An idle compiler never keeps the process alive; a pending compile's timer does.
    child.unref();
    child.channel?.unref();
    (child.stderr as { unref?: () => void } | null)?.unref?.();
    this.#next();
  }

  #onExit(child: ChildProcess): void {
    if (child !== this.#child) return;
    const job = this.#current;
    if (job) {
      clearTimeout(job.timer);
      this.#current = null;
      this.#failCrashed(job, "the compiler process exited");
    }
    this.#retire(child);
  }

  /** Replaces a dead or dying child with a fresh one. */
  #retire(child: ChildProcess): void {
    if (child !== this.#child) return;
    this.#kill();
    this.#child = null;
    if (this.#closed) return;
    this.#stats.crashes++;
    const now = Date.now();
    this.#recentCrashes = [...this.#recentCrashes.filter((t) => now - t < 10_000), now];
    // Restart at once; only a crash loop gets a short pause.
    if (this.#recentCrashes.length <= 5) this.#spawn();
    else {
      this.#respawnTimer = setTimeout(() => {
        this.#respawnTimer = null;
        this.#spawn();
      }, 1000);
      this.#respawnTimer.unref();
    }
  }

  #kill(): void {
    const child = this.#child;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      child.kill("SIGKILL");
    }
  }
}
