import { type MinimalLogger, safeLog } from "./logger.ts";

interface Opened {
  name: string;
  close: () => Promise<void> | void;
}

/**
 * What a service opened (database, child processes, background jobs, clients, servers),
 * closed newest first: by a start that fails part way, and at the end of a drain. A close
 * that fails is logged and the others still run, so nothing is left open on any path.
 * Cores register what they open on it; `startService` (@picloud/http/node) owns it.
 */
export class Resources {
  readonly #opened: Opened[] = [];
  readonly #logger: MinimalLogger | undefined;

  constructor(logger?: MinimalLogger) {
    this.#logger = logger;
  }

  /** Registers an open resource with how to close it; returns the resource. */
  add<T>(name: string, resource: T, close: (resource: T) => Promise<void> | void): T {
    this.#opened.push({ name, close: () => close(resource) });
    return resource;
  }

  /** Opens a resource and registers it (nothing is registered when `open` throws). */
  async open<T>(name: string, open: () => Promise<T> | T, close: (resource: T) => Promise<void> | void): Promise<T> {
    return this.add(name, await open(), close);
  }

  /** Names of what is open, oldest first. */
  get names(): string[] {
    return this.#opened.map((o) => o.name);
  }

  /** Closes everything, newest first. Resolves to the names whose close failed (each logged). */
  async closeAll(): Promise<string[]> {
    const failed: string[] = [];
    for (let next = this.#opened.pop(); next; next = this.#opened.pop()) {
      try {
        await next.close();
      } catch (err) {
        failed.push(next.name);
        safeLog(this.#logger, "error", { err, resource: next.name }, "close failed");
      }
    }
    return failed;
  }
}
