import { PiCloudError } from "@picloud/shared";

/** The manager's internal cluster routes (served by manager-core's `clusterRoutes`). */
export const CLUSTER_PREFIX = "/internal/cluster";

export interface ManagerClientOptions {
  /** Base URL of `picloud-manager`, e.g. `http://10.0.0.5:8790`. */
  url: string;
  /** `PICLOUD_CLUSTER_TOKEN`, sent as `Authorization: Bearer …`. */
  token: string;
  /** Per-request deadline (default 3000 ms). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/**
 * HTTP to the manager's cluster routes with the cluster token and a deadline. Remembers
 * whether the last exchange reached the manager (for /ready's report).
 */
export class ManagerClient {
  readonly base: string;
  readonly #token: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;
  #reachable: boolean | null = null;
  #lastError: string | null = null;

  constructor(o: ManagerClientOptions) {
    this.base = o.url.replace(/\/+$/, "");
    this.#token = o.token;
    this.#timeoutMs = o.timeoutMs ?? 3000;
    this.#fetch = o.fetch ?? fetch;
  }

  /** null until the first exchange. */
  get reachable(): boolean | null {
    return this.#reachable;
  }

  get lastError(): string | null {
    return this.#lastError;
  }

  get authorization(): string {
    return `Bearer ${this.#token}`;
  }

  url(path: string): string {
    return `${this.base}${CLUSTER_PREFIX}${path}`;
  }

  /**
   * One request. Resolves with the response whatever its status (the caller decides);
   * network failures and timeouts reject with `service_unavailable`.
   */
  async request(path: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<Response> {
    const { timeoutMs, ...rest } = init;
    try {
      const res = await this.#fetch(this.url(path), {
        ...rest,
        headers: {
          authorization: this.authorization,
          ...(rest.body ? { "content-type": "application/json" } : {}),
          ...(rest.headers as Record<string, string> | undefined),
        },
        signal: AbortSignal.timeout(timeoutMs ?? this.#timeoutMs),
      });
      this.#reachable = true; // it answered, whatever the status
      this.#lastError = null;
      return res;
    } catch (err) {
      this.#reachable = false;
      this.#lastError = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      throw new PiCloudError("service_unavailable", "the control plane (picloud-manager) is unreachable", {
        cause: err,
        headers: { "Retry-After": "1" },
      });
    }
  }

  /** POST/GET returning JSON from a 2xx; other statuses throw with the contract's message. */
  async json<T>(path: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<T> {
    const res = await this.request(path, init);
    if (res.ok) return (await res.json()) as T;
    throw await errorFrom(res);
  }
}

/** A PiCloudError-ish error from a non-2xx manager answer; `code` carries `details.sqlState` when given. */
export async function errorFrom(res: Response): Promise<Error & { status: number; code?: string }> {
  let message = `manager answered ${res.status}`;
  let sqlState: string | undefined;
  try {
    const body = (await res.json()) as { message?: string; details?: { sqlState?: string } };
    if (body.message) message = `${message}: ${body.message}`;
    sqlState = body.details?.sqlState;
  } catch {
    // not JSON
  }
  const err = new Error(message) as Error & { status: number; code?: string };
  err.status = res.status;
  if (sqlState) err.code = sqlState;
  return err;
}
