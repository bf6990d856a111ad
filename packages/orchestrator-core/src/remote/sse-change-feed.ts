import {
  CHANGE_EVENTS,
  type ChangeFeed,
  type ChangeListener,
  CLUSTER_ROUTES,
  parseChangeNotice,
} from "@picloud/shared";
import type { ManagerClient } from "./manager-client.ts";

export interface SseChangeFeedOptions {
  client: ManagerClient;
  /** Reconnection backoff: doubles from `retryBaseMs` up to `retryMaxMs` (defaults 100 ms, 2 s). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** No byte for this long (heartbeats included) means the stream is dead: reconnect (default 30 s). */
  idleTimeoutMs?: number;
  logger?: { info(o: object, m?: string): void; warn(o: object, m?: string): void };
}

/**
 * Script change notices from the manager's SSE stream (`/internal/cluster/changes`), with
 * reconnection. Each time the stream is (re)established — and whenever the manager says
 * notices may have been missed — the `onResync` listeners are told to drop everything they
 * cached: a notice sent while we were away is gone for good.
 */
export class SseChangeFeed implements ChangeFeed {
  readonly #o: Required<Omit<SseChangeFeedOptions, "logger">> & { logger: SseChangeFeedOptions["logger"] };
  readonly #listeners = new Set<ChangeListener>();
  readonly #resync = new Set<() => void>();
  #abort: AbortController | null = null;
  #closed = false;
  #connected = false;
  #connects = 0;
  #notices = 0;
  #loop: Promise<void> | null = null;
  #sleep: { timer: NodeJS.Timeout; resolve: () => void } | null = null;

  constructor(o: SseChangeFeedOptions) {
    this.#o = {
      client: o.client,
      retryBaseMs: o.retryBaseMs ?? 100,
      retryMaxMs: o.retryMaxMs ?? 2000,
      idleTimeoutMs: o.idleTimeoutMs ?? 30_000,
      logger: o.logger,
    };
  }

  subscribe(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  onResync(listener: () => void): () => void {
    this.#resync.add(listener);
    return () => this.#resync.delete(listener);
  }

  /** True while the stream is up and subscribed. */
  get connected(): boolean {
    return this.#connected;
  }

  stats(): { connected: boolean; connects: number; notices: number } {
    return { connected: this.#connected, connects: this.#connects, notices: this.#notices };
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#abort?.abort();
    if (this.#sleep) {
      clearTimeout(this.#sleep.timer);
      this.#sleep.resolve();
    }
    await this.#loop;
  }

  async #run(): Promise<void> {
    let attempt = 0;
    while (!this.#closed) {
      try {
        await this.#follow(() => {
          attempt = 0;
        });
        if (!this.#closed) this.#o.logger?.warn({}, "change feed: the manager closed the stream; reconnecting");
      } catch (err) {
        if (this.#closed) break;
        if (attempt === 0) {
          this.#o.logger?.warn(
            { err: err instanceof Error ? err.message : String(err) },
            "change feed: stream to the manager lost; reconnecting with backoff",
          );
        }
      }
      this.#connected = false;
      if (this.#closed) break;
      const delay = Math.min(this.#o.retryMaxMs, this.#o.retryBaseMs * 2 ** Math.min(16, attempt));
      attempt++;
      await new Promise<void>((resolve) => {
        this.#sleep = { timer: setTimeout(resolve, delay), resolve };
      });
      this.#sleep = null;
    }
  }

  async #follow(onReady: () => void): Promise<void> {
    const abort = new AbortController();
    this.#abort = abort;
    let idle: NodeJS.Timeout | undefined;
    const touch = (): void => {
      clearTimeout(idle);
      idle = setTimeout(() => abort.abort(new Error("change stream idle")), this.#o.idleTimeoutMs);
    };
    touch();
    try {
      const c = this.#o.client;
      const res = await fetch(c.url(CLUSTER_ROUTES.changes), {
        headers: { authorization: c.authorization, accept: "text/event-stream" },
        signal: abort.signal,
      });
      if (!res.ok || !res.body) {
        await res.body?.cancel();
        throw new Error(`the manager answered ${res.status} to the change stream`);
      }
      const decoder = new TextDecoder();
      let buf = "";
      let event = "message";
      let data: string[] = [];
      for await (const chunk of res.body) {
        touch();
        buf += decoder.decode(chunk, { stream: true });
        let nl = buf.indexOf("\n");
        while (nl >= 0) {
          const line = buf.slice(0, nl).replace(/\r$/, "");
          buf = buf.slice(nl + 1);
          nl = buf.indexOf("\n");
          if (line === "") {
            if (data.length > 0 || event !== "message") this.#dispatch(event, data.join("\n"), onReady);
            event = "message";
            data = [];
          } else if (line.startsWith(":")) {
            // heartbeat comment
          } else if (line.startsWith("event:")) {
            event = line.slice(6).trim();
          } else if (line.startsWith("data:")) {
            data.push(line.slice(5).replace(/^ /, ""));
          }
        }
      }
    } finally {
      clearTimeout(idle);
      this.#abort = null;
      this.#connected = false;
    }
  }

  #dispatch(event: string, data: string, onReady: () => void): void {
    if (event === CHANGE_EVENTS.ready) {
      this.#connected = true;
      this.#connects++;
      onReady();
      if (this.#connects > 1)
        this.#o.logger?.info({}, "change feed: reconnected to the manager; dropping cached scripts");
      this.#emitResync();
      return;
    }
    if (event === CHANGE_EVENTS.resync) {
      this.#emitResync();
      return;
    }
    if (event !== CHANGE_EVENTS.change) return;
    const notice = parseChangeNotice(data);
    if (!notice) return;
    this.#notices++;
    for (const l of this.#listeners) {
      try {
        l(notice);
      } catch {
        // a listener's fault stays its own
      }
    }
  }

  #emitResync(): void {
    for (const r of this.#resync) {
      try {
        r();
      } catch {
        // a listener's fault stays its own
      }
    }
  }
}
