/**
 * The dashboard's one typed client of the PiCloud HTTP API. Every call goes to the same
 * origin with the session cookie; state-changing calls carry the CSRF header the server
 * asks of cookie-authenticated requests. A non-2xx answer becomes an ApiError that keeps
 * the server's code, message and details.
 */
import type {
  CreateScriptInput,
  ErrorBody,
  ExecutionLog,
  ExecutionLogSummary,
  ExecutionStatus,
  InvokeKeyView,
  ListPage,
  ScriptDetail,
  ScriptListItem,
  ScriptVersionView,
  SessionInfo,
  UpdateScriptInput,
} from "@picloud/shared";
import { CSRF_HEADER } from "@picloud/shared/credentials";

export type { ScriptListItem };

export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly status: number;
  /** The contract's error code (`bad_request`, `not_found`, …), or `network_error`. */
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(status: number, code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export interface LogsQuery {
  limit?: number;
  status?: ExecutionStatus | "";
  cursor?: string | null;
  since?: string;
  until?: string;
}

type Listener = () => void;
const unauthorizedListeners = new Set<Listener>();

/** Called whenever an API call answers 401 (the session ended): the app goes to sign-in. */
export function onUnauthorized(listener: Listener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

function isErrorBody(v: unknown): v is ErrorBody {
  return typeof v === "object" && v !== null && typeof (v as ErrorBody).error === "string";
}

/** Turns a non-2xx response into an ApiError, reading the error contract when it is there. */
export async function errorFrom(res: Response): Promise<ApiError> {
  let body: unknown = null;
  const text = await res.text().catch(() => "");
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (isErrorBody(body)) {
    return new ApiError(res.status, body.error, body.message || res.statusText, body.details);
  }
  return new ApiError(res.status, "http_error", text.trim().slice(0, 300) || `HTTP ${res.status} ${res.statusText}`);
}

interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | null | undefined>;
  /** Do not announce a 401 (used by the session check and sign-in). */
  quiet401?: boolean;
  signal?: AbortSignal;
}

async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  let url = path;
  if (opts.query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query)) {
      if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
    }
    const s = q.toString();
    if (s) url += `?${s}`;
  }
  const headers: Record<string, string> = { accept: "application/json", [CSRF_HEADER]: "1" };
  const init: RequestInit = { method, headers, credentials: "same-origin", signal: opts.signal ?? null };
  if (opts.body !== undefined) {
    headers["content-type"] = "application/json";
    init.body = JSON.stringify(opts.body);
  }
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e;
    throw new ApiError(0, "network_error", "The server could not be reached. Check your connection and try again.");
  }
  if (!res.ok) {
    const err = await errorFrom(res);
    if (res.status === 401 && !opts.quiet401) for (const l of unauthorizedListeners) l();
    throw err;
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

const enc = encodeURIComponent;

export const api = {
  // Session: null when signed out; else where scripts are served (null: this origin).
  async session(): Promise<{ executeOrigin: string | null } | null> {
    try {
      const s = await request<SessionInfo>("GET", "/api/auth/session", { quiet401: true });
      return { executeOrigin: s.executeOrigin };
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return null;
      throw e;
    }
  },
  login: (token: string) => request<void>("POST", "/api/auth/login", { body: { token }, quiet401: true }),
  logout: () => request<void>("POST", "/api/auth/logout", { quiet401: true }),

  // Scripts
  listScripts: (q: { search?: string; limit?: number; cursor?: string | null } = {}, signal?: AbortSignal) =>
    request<ListPage<ScriptListItem>>("GET", "/api/scripts", { query: q, ...(signal ? { signal } : {}) }),
  createScript: (input: CreateScriptInput) => request<ScriptDetail>("POST", "/api/scripts", { body: input }),
  getScript: (idOrName: string) => request<ScriptDetail>("GET", `/api/scripts/${enc(idOrName)}`),
  updateScript: (idOrName: string, input: UpdateScriptInput) =>
    request<ScriptDetail>("PUT", `/api/scripts/${enc(idOrName)}`, { body: input }),
  deleteScript: (idOrName: string) => request<void>("DELETE", `/api/scripts/${enc(idOrName)}`),

  // Versions
  listVersions: (id: string) => request<ListPage<ScriptVersionView>>("GET", `/api/scripts/${enc(id)}/versions`),
  getVersion: (id: string, version: number) =>
    request<ScriptVersionView>("GET", `/api/scripts/${enc(id)}/versions/${version}`),
  rollback: (id: string, version: number) =>
    request<ScriptDetail>("POST", `/api/scripts/${enc(id)}/rollback`, { body: { version } }),

  // Invoke keys
  listKeys: (id: string) => request<ListPage<InvokeKeyView>>("GET", `/api/scripts/${enc(id)}/keys`),
  createKey: (id: string, name: string) =>
    request<InvokeKeyView>("POST", `/api/scripts/${enc(id)}/keys`, { body: { name } }),
  deleteKey: (id: string, keyId: string) => request<void>("DELETE", `/api/scripts/${enc(id)}/keys/${enc(keyId)}`),

  // Executions
  listLogs: (id: string, q: LogsQuery = {}) =>
    request<ListPage<ExecutionLogSummary>>("GET", `/api/scripts/${enc(id)}/logs`, {
      query: { limit: q.limit, status: q.status, cursor: q.cursor, since: q.since, until: q.until },
    }),
  getExecution: (executionId: string) => request<ExecutionLog>("GET", `/api/executions/${enc(executionId)}`),
};

/** URL of the live stream of a script's executions (Server-Sent Events, cookie-authenticated). */
export function logStreamUrl(scriptId: string): string {
  return `/api/scripts/${enc(scriptId)}/logs/stream`;
}

export interface InvokeRequest {
  scriptName: string;
  method: string;
  /** Extra path after the script name, e.g. `/users/1`. */
  path: string;
  /** Query string without `?`. */
  query: string;
  headers: [string, string][];
  body: string | null;
}

export interface InvokeResult {
  status: number;
  statusText: string;
  headers: [string, string][];
  body: string;
  durationMs: number;
  executionId: string | null;
}

/** The URL a test invocation goes to (same origin). */
export function invokePath(r: Pick<InvokeRequest, "scriptName" | "path" | "query">): string {
  let p = `/api/execute/${enc(r.scriptName)}`;
  const rest = r.path.trim();
  if (rest && rest !== "/") p += rest.startsWith("/") ? rest : `/${rest}`;
  const q = r.query.trim().replace(/^\?/, "");
  if (q) p += `?${q}`;
  return p;
}

/**
 * Sends a test invocation through /api/execute with the session cookie and the test
 * trigger header, and answers whatever the script answered (never throws for a non-2xx).
 */
export async function invoke(r: InvokeRequest, signal?: AbortSignal): Promise<InvokeResult> {
  const headers = new Headers();
  for (const [k, v] of r.headers) if (k.trim()) headers.append(k.trim(), v);
  headers.set("x-picloud-trigger", "test");
  headers.set(CSRF_HEADER, "1");
  const init: RequestInit = { method: r.method, headers, credentials: "same-origin", signal: signal ?? null };
  if (r.body !== null && r.method !== "GET" && r.method !== "HEAD") init.body = r.body;
  const started = performance.now();
  let res: Response;
  try {
    res = await fetch(invokePath(r), init);
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e;
    throw new ApiError(0, "network_error", "The request did not reach the server.");
  }
  const body = await res.text();
  const durationMs = performance.now() - started;
  return {
    status: res.status,
    statusText: res.statusText,
    headers: [...res.headers.entries()],
    body,
    durationMs,
    executionId: res.headers.get("x-picloud-execution-id"),
  };
}

/** A message for any thrown value. */
export function messageOf(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

/**
 * Reads an execution that was just announced (test answer or live event). The log is
 * written through the sink right after the answer, so it may not be stored yet: wait until
 * it is listed (a 200 page, so the browser logs no failed request), then read it whole.
 */
export async function fetchFreshExecution(scriptId: string, executionId: string): Promise<ExecutionLog | null> {
  for (let attempt = 0; attempt < 12; attempt++) {
    try {
      const page = await api.listLogs(scriptId, { limit: 50 });
      if (page.items.some((i) => i.id === executionId)) return await api.getExecution(executionId);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) throw e;
    }
    await new Promise((r) => setTimeout(r, Math.min(150 * (attempt + 1), 1000)));
  }
  return null;
}
