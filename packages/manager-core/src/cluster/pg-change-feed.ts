import {
  type ChangeFeed,
  type ChangeListener,
  type ChangeNotice,
  type MinimalLogger,
  parseChangeNotice,
  safeLog,
} from "@picloud/shared";
import postgres from "postgres";

/** The NOTIFY channel of script changes. */
export const SCRIPT_CHANGES_CHANNEL = "picloud_script_changes";

export interface PgChangeFeedOptions {
  /** postgres:// URL of the database the scripts live in. */
  url: string;
  channel?: string;
  logger?: MinimalLogger;
}

/**
 * Script change notices through PostgreSQL `LISTEN/NOTIFY` (docs/cluster.md#how-the-pieces-talk), so that whichever
 * process changes a script, every manager and through it every orchestrator hears of it.
 *
 * - `publish` runs `pg_notify(channel, json)` after the change is committed. Should that
 *   fail, the notice is still delivered to this process's own subscribers (and the failure
 *   logged); orchestrators then rely on their cache TTL.
 * - A dedicated LISTEN connection (postgres-js `sql.listen`) receives the notices and fans
 *   them out to subscribers. postgres-js reconnects it with backoff and re-subscribes;
 *   notices sent while it was down are lost, so on every reconnect the `onResync`
 *   listeners are told to drop whatever they cached.
 */
export class PgChangeFeed implements ChangeFeed {
  readonly #sql: postgres.Sql;
  readonly #channel: string;
  readonly #logger: MinimalLogger | undefined;
  readonly #listeners = new Set<ChangeListener>();
  readonly #resync = new Set<() => void>();
  #listens = 0;
  #sub: postgres.ListenMeta | null = null;
  #closed = false;
  #published = 0;
  #publishFailures = 0;

  constructor(opts: PgChangeFeedOptions) {
    this.#channel = opts.channel ?? SCRIPT_CHANGES_CHANNEL;
    this.#logger = opts.logger;
    // One connection listens, one notifies.
    this.#sql = postgres(opts.url, { max: 2, onnotice: () => {}, connect_timeout: 5, idle_timeout: 0 });
  }

  /** Subscribes the LISTEN connection; resolves once PostgreSQL acknowledged it. */
  async start(): Promise<void> {
    this.#sub = await this.#sql.listen(
      this.#channel,
      (payload) => this.#deliver(payload),
      () => {
        this.#listens++;
        if (this.#listens > 1) {
          safeLog(this.#logger, "info", { channel: this.#channel }, "change feed: LISTEN re-established; resyncing");
          for (const r of this.#resync) {
            try {
              r();
            } catch {
              // a listener's fault stays its own
            }
          }
        }
      },
    );
  }

  subscribe(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Told when notices may have been missed (the LISTEN connection came back). */
  onResync(listener: () => void): () => void {
    this.#resync.add(listener);
    return () => this.#resync.delete(listener);
  }

  /** Sends a notice to every listener of the channel (this process's included, through PostgreSQL). */
  async publish(notice: ChangeNotice): Promise<void> {
    try {
      await this.#sql`select pg_notify(${this.#channel}, ${JSON.stringify(notice)})`;
      this.#published++;
    } catch (err) {
      this.#publishFailures++;
      safeLog(
        this.#logger,
        "warn",
        { err: err instanceof Error ? err.message : String(err), scriptId: notice.scriptId },
        "change feed: pg_notify failed; telling local subscribers only",
      );
      this.#fanOut(notice);
    }
  }

  stats(): { listeners: number; published: number; publishFailures: number; listens: number } {
    return {
      listeners: this.#listeners.size,
      published: this.#published,
      publishFailures: this.#publishFailures,
      listens: this.#listens,
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#sub?.unlisten().catch(() => {});
    await this.#sql.end({ timeout: 2 });
  }

  #deliver(payload: string): void {
    const notice = parseChangeNotice(payload);
    if (!notice) {
      safeLog(this.#logger, "warn", { payload: payload.slice(0, 200) }, "change feed: unreadable notice ignored");
      return;
    }
    this.#fanOut(notice);
  }

  #fanOut(notice: ChangeNotice): void {
    for (const l of this.#listeners) {
      try {
        l(notice);
      } catch {
        // a listener's fault stays its own
      }
    }
  }
}
