import { type ClusterRoute, clusterPath, type PathParams, PiCloudError, toJsonLenient } from "@picloud/shared";
import type { z } from "zod";

export interface ManagerClientOptions {
  /** Base URL of `picloud-manager`, e.g. `http://10.0.0.5:8790`. */
  url: string;
  /** `PICLOUD_CLUSTER_TOKEN`, sent as `Authorization: Bearer …`. */
  token: string;
  /** Per-request deadline (default 3000 ms). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** What a route of the protocol takes: its path parameters, its body (typed by its request schema), a deadline. */
export interface CallInput<P extends string, Q> {
  params?: PathParams<P>;
  body?: Q extends z.ZodType ? z.input<Q> : never;
  timeoutMs?: number;
}

/** The manager answered, but not with a 2xx of the protocol: its status, and the error contract's code if any. */
export class ManagerAnswerError extends Error {
  override readonly name: string = "ManagerAnswerError";
  readonly status: number;
  readonly code: string | undefined;

  constructor(status: number, message: string, code?: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * The orchestrator's side of the cluster protocol (`CLUSTER_ROUTES` in @picloud/shared):
 * HTTP to the manager with the cluster token and a deadline; answers are validated with the
 * protocol's response schemas. Remembers whether the last exchange reached the manager (for
 * /ready's report).
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

  /** The URL of a route of the protocol, its parameters filled in. */
  url(route: Pick<ClusterRoute, "path">, params?: Readonly<Record<string, string>>): string {
    return `${this.base}${clusterPath(route.path, params)}`;
  }

  /**
   * Calls a JSON route: the body is the route's request type, the answer is validated against
   * its response schema. A non-2xx answer (or one that breaks the protocol) rejects with
   * `ManagerAnswerError`; a network failure or timeout with `service_unavailable`.
   */
  async call<P extends string, S extends z.ZodType, Q extends z.ZodType | undefined = undefined>(
    route: { readonly method: ClusterRoute["method"]; readonly path: P; readonly request?: Q; readonly response: S },
    input: CallInput<P, Q> = {},
  ): Promise<z.output<S>> {
    const res = await this.#request(this.url(route, input.params), {
      method: route.method,
      ...(input.body === undefined ? {} : { body: toJsonLenient(input.body) }),
      timeoutMs: input.timeoutMs,
    });
    if (!res.ok) throw await answerError(res);
    const json: unknown = await res.json().catch(() => undefined);
    const parsed = route.response.safeParse(json);
    if (!parsed.success) {
      throw new ManagerAnswerError(res.status, `manager answered ${res.status} with a body outside the protocol`);
    }
    return parsed.data;
  }

  async #request(url: string, init: RequestInit & { timeoutMs?: number | undefined }): Promise<Response> {
    const { timeoutMs, ...rest } = init;
    try {
      const res = await this.#fetch(url, {
        ...rest,
        headers: { authorization: this.authorization, ...(rest.body ? { "content-type": "application/json" } : {}) },
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
}

/** A `ManagerAnswerError` from a non-2xx answer, with the error contract's code and message when it sent them. */
async function answerError(res: Response): Promise<ManagerAnswerError> {
  const body: unknown = await res.json().catch(() => null);
  const field = (k: string): string | undefined => {
    const v = body && typeof body === "object" ? (body as Record<string, unknown>)[k] : undefined;
    return typeof v === "string" ? v : undefined;
  };
  const message = field("message");
  return new ManagerAnswerError(
    res.status,
    message ? `manager answered ${res.status}: ${message}` : `manager answered ${res.status}`,
    field("error"),
  );
}
