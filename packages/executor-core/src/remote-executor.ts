import { connect, type Socket } from "node:net";
import type { Executor, ExecutorStats, InvocationOutcome, InvocationRequest, ScriptVersionRef } from "@picloud/shared";
import { faultOutcome } from "./outcome.ts";
import { RpcExecutorClient } from "./rpc/client.ts";

/** Where a `picloud-executor` listens: loopback/LAN TCP or a unix socket. */
export type ExecutorAddress = { host: string; port: number } | { path: string };

/** Whether `text` is an executor address `parseExecutorAddress` accepts (for env validation). */
export function isExecutorAddress(text: string): boolean {
  try {
    parseExecutorAddress(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Parses `host:port`, `[v6]:port`, `tcp://host:port`, `unix:/path` or a plain path (anything
 * containing a `/`). Throws on anything else.
 */
export function parseExecutorAddress(text: string): ExecutorAddress {
  const s = text.trim();
  if (s.startsWith("unix:")) return { path: s.slice("unix:".length) };
  if (s.includes("/") && !s.startsWith("tcp://")) return { path: s };
  const hp = s.replace(/^tcp:\/\//, "");
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(hp);
  const port = Number(m?.[3]);
  if (!m || !(port >= 1 && port <= 65535)) {
    throw new Error(`not an executor address: ${JSON.stringify(text)} (want host:port or a unix socket path)`);
  }
  return { host: (m[1] ?? m[2]) as string, port };
}

export function formatExecutorAddress(a: ExecutorAddress): string {
  return "path" in a ? `unix:${a.path}` : `${a.host.includes(":") ? `[${a.host}]` : a.host}:${a.port}`;
}

export interface RemoteExecutorOptions {
  address: ExecutorAddress | string;
  /** A connection attempt that has not succeeded by then fails (default 2000 ms). */
  connectTimeoutMs?: number;
  /**
   * Added to each invocation's wall budget to give its deadline on this side (default
   * 5000 ms: more than the executor's own supervision grace, so that its answer wins).
   */
  graceMs?: number;
  /** Reconnection backoff: doubles from `retryBaseMs` up to `retryMaxMs` (defaults 50 ms, 2 s). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** How long `ready()` waits for the executor's answer (default 2000 ms). */
  readyTimeoutMs?: number;
  /** Told when the connection is established or lost (for logs). */
  onState?: (state: "connected" | "lost", detail?: string) => void;
}

/**
 * An {@link Executor} on another process (`picloud-executor`), reached over TCP or a unix
 * socket with the executor RPC protocol ({@link RpcExecutorClient} / `serveExecutor`).
 *
 * - One connection, multiplexed; established lazily and re-established in the background
 *   with exponential backoff once lost.
 * - Never a hung request: each invocation has a deadline (wall budget + grace); a dropped
 *   connection resolves every invocation in flight as error / `executor_crashed`; while no
 *   connection can be made, invocations answer at once (after one bounded connect attempt)
 *   as error / `executor_unavailable`.
 */
export class RemoteExecutor implements Executor {
  readonly #address: ExecutorAddress;
  readonly #o: Required<Omit<RemoteExecutorOptions, "address" | "onState">> & {
    onState: RemoteExecutorOptions["onState"];
  };
  #client: RpcExecutorClient | null = null;
  #socket: Socket | null = null;
  #connecting: Promise<RpcExecutorClient | null> | null = null;
  #attempt = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #closed = false;
  #lost = 0;
  #everConnected = false;

  constructor(opts: RemoteExecutorOptions) {
    this.#address = typeof opts.address === "string" ? parseExecutorAddress(opts.address) : opts.address;
    this.#o = {
      connectTimeoutMs: opts.connectTimeoutMs ?? 2000,
      graceMs: opts.graceMs ?? 5000,
      retryBaseMs: opts.retryBaseMs ?? 50,
      retryMaxMs: opts.retryMaxMs ?? 2000,
      readyTimeoutMs: opts.readyTimeoutMs ?? 2000,
      onState: opts.onState,
    };
  }

  get address(): string {
    return formatExecutorAddress(this.#address);
  }

  /** True while a connection is up. */
  get connected(): boolean {
    return this.#client !== null && !this.#client.closed;
  }

  /** Starts connecting in the background (the first invocation would otherwise do it). */
  start(): void {
    void this.#connect();
  }

  async invoke(req: InvocationRequest): Promise<InvocationOutcome> {
    if (this.#closed) return faultOutcome("error", "executor_unavailable", "the executor client is closed");
    const client = await this.#connect();
    if (!client) {
      return faultOutcome("error", "executor_unavailable", `the executor at ${this.address} is unreachable`, {
        name: "ExecutorUnavailable",
      });
    }
    return client.invoke(req);
  }

  evict(scriptId: string, keepVersion?: number): void {
    if (this.connected) this.#client?.evict(scriptId, keepVersion);
  }

  async prepare(script: ScriptVersionRef, memoryMb: number): Promise<void> {
    if (this.connected) await this.#client?.prepare(script, memoryMb);
  }

  async ready(): Promise<boolean> {
    if (this.#closed) return false;
    const client = await this.#connect();
    return client ? client.ready(this.#o.readyTimeoutMs) : false;
  }

  stats(): ExecutorStats {
    const s = this.#client?.stats() ?? { isolatesWarm: 0, isolatesBusy: 0, scriptsLoaded: 0, crashes: 0 };
    // `crashes` counts lost connections as seen from here (the executor's own restarts are its business).
    return { ...s, crashes: this.#lost };
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    const client = this.#client;
    this.#client = null;
    await client?.close();
    this.#socket?.destroy();
    this.#socket = null;
  }

  /** The live client, or one connect attempt (shared by concurrent callers); null when it failed. */
  #connect(): Promise<RpcExecutorClient | null> {
    if (this.#client && !this.#client.closed) return Promise.resolve(this.#client);
    if (this.#closed) return Promise.resolve(null);
    this.#connecting ??= this.#dial().finally(() => {
      this.#connecting = null;
    });
    return this.#connecting;
  }

  #dial(): Promise<RpcExecutorClient | null> {
    return new Promise((resolve) => {
      const socket = "path" in this.#address ? connect(this.#address.path) : connect(this.#address);
      const timer = setTimeout(() => socket.destroy(new Error("connect timed out")), this.#o.connectTimeoutMs);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        this.#scheduleRetry(err.message);
        resolve(null);
      };
      socket.once("error", fail);
      socket.once("connect", () => {
        clearTimeout(timer);
        socket.off("error", fail);
        if (this.#closed) {
          socket.destroy();
          resolve(null);
          return;
        }
        socket.setNoDelay(true);
        socket.setKeepAlive(true, 5000);
        const client = new RpcExecutorClient(socket, {
          graceMs: this.#o.graceMs,
          deadlineReason: "executor_unavailable",
          onLost: () => this.#onLost(client),
        });
        this.#client = client;
        this.#socket = socket;
        this.#attempt = 0;
        this.#everConnected = true;
        this.#o.onState?.("connected", this.address);
        resolve(client);
      });
    });
  }

  #onLost(client: RpcExecutorClient): void {
    if (this.#client !== client) return;
    this.#client = null;
    this.#socket?.destroy();
    this.#socket = null;
    if (this.#closed) return;
    this.#lost++;
    this.#o.onState?.("lost", this.address);
    this.#scheduleRetry("connection lost");
  }

  /** Background reconnection with backoff, so a returning executor is picked up before the next call. */
  #scheduleRetry(_why: string): void {
    if (this.#closed || this.#retryTimer) return;
    const delay = Math.min(this.#o.retryMaxMs, this.#o.retryBaseMs * 2 ** Math.min(16, this.#attempt));
    this.#attempt++;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#closed || this.connected) return;
      void this.#connect();
    }, delay);
    this.#retryTimer.unref();
  }

  /** Whether a connection was ever made (for start-up logs). */
  get everConnected(): boolean {
    return this.#everConnected;
  }
}
