/**
 * What crosses between the host (`../sandbox.ts`) and the in-isolate runtime: the host
 * bindings `bootstrap` receives and the named entry points it returns. Types only, shared
 * by both sides (docs/executor.md, "Runtime layout"). Everything listed here crosses as
 * copies; the host treats whatever comes back as untrusted and validates it.
 */

/**
 * Options of an isolated-vm `Reference.apply` made from inside the isolate. Literal objects
 * without a prototype: a script that pollutes `Object.prototype` must not be able to add
 * an inherited `reference: true` and receive host references instead of copies.
 */
export interface CopyApplyOptions {
  readonly __proto__: null;
  readonly arguments: { readonly __proto__: null; readonly copy: true };
  readonly result: { readonly __proto__: null; readonly promise: true; readonly copy: true };
}

/** An isolated-vm Reference to an asynchronous host function, as seen inside the isolate. */
export interface HostReference<A, R> {
  apply(receiver: undefined, args: [A], options: CopyApplyOptions): Promise<R>;
}

/** What the isolate's fetch hands to the host (plain data). */
export interface HostFetchRequest {
  /** Per-invocation fetch id, so that the script's AbortSignal can cancel the host request. */
  id: number;
  method: string;
  url: string;
  headers: [string, string][];
  body: Uint8Array | null;
  redirect: string;
}

/** What the host's fetch answers (plain data). */
export type HostFetchResult =
  | {
      ok: true;
      status: number;
      statusText: string;
      headers: [string, string][];
      body: Uint8Array;
      url: string;
      redirected: boolean;
    }
  | { ok: false; message: string };

export type HostLogLevel = "debug" | "info" | "warn" | "error";
export type HostHash = "SHA-1" | "SHA-256" | "SHA-384" | "SHA-512";

/**
 * The host's callbacks: `bootstrap`'s only argument. The runtime keeps them in its own
 * module scope and never puts them on the global object, so script code cannot reach them.
 * Synchronous ones are isolated-vm Callbacks (plain functions inside the isolate); fetch and
 * sleep are References called with {@link CopyApplyOptions}.
 */
export interface HostBindings {
  /** One log line (or, with `truncated`, the isolate's own cap was reached). */
  log(level: HostLogLevel, message: string, dataJson: string | undefined, truncated: boolean): void;
  fetch: HostReference<HostFetchRequest, HostFetchResult>;
  /** Resolves after `ms`; never resolves once the invocation is over. */
  sleep: HostReference<number, void>;
  /** `n` random bytes (n ≤ 65536). */
  random(n: number): Uint8Array;
  /** crypto.subtle's host half: a digest, or an HMAC with `key`. */
  crypto(op: "digest" | "hmac", hash: HostHash, key: Uint8Array | null, data: Uint8Array): Uint8Array;
  /** Cancels the host request of fetch `id`. */
  abortFetch(id: number): void;
}

/** Starts an invocation inside the isolate: its log caps and env. */
export interface BeginPayload {
  env: Record<string, string>;
  maxLogLines: number;
  maxLogBytes: number;
}

/** One invocation's request as the runtime receives it. */
export interface InvokePayload {
  executionId: string;
  scriptName: string;
  version: number;
  method: string;
  url: string;
  headers: [string, string][];
  body: Uint8Array | null;
  maxResponseBytes: number;
  /** A warm run starts here (null: `begin` was called before the module was evaluated). */
  begin: BeginPayload | null;
}

/** A script error as plain data. */
export interface RuntimeError {
  name: string;
  message: string;
  stack: string | null;
}

/** How an invocation ended, as the runtime reports it (the host re-validates every field). */
export type RuntimeResult =
  | { kind: "ok"; status: number; headers: [string, string][]; body: Uint8Array }
  | { kind: "threw" | "invalid"; error: RuntimeError }
  | { kind: "limit"; reason: "response_too_large"; error: RuntimeError };

/** A script module's namespace as `setModule` receives it. */
export interface ModuleNamespace {
  default?: unknown;
}

/** The runtime's entry points, by name: what `bootstrap` returns to the host. */
export interface RuntimeEntryPoints {
  /** Starts an invocation (the first run calls it before the module is evaluated). */
  begin(inv: BeginPayload): void;
  /** Takes the module's namespace; returns why its default export is unusable, or null. */
  setModule(ns: ModuleNamespace): string | null;
  /** Runs one invocation to its end. */
  invoke(inv: InvokePayload): Promise<RuntimeResult>;
  /** The synchronous path: starts an invocation and runs it as far as it goes without the host. */
  invokeStart(inv: InvokePayload): void;
  /** The result of the invocation `invokeStart` started, if it has settled; otherwise null. */
  takeResult(): RuntimeResult | null;
  /** The pending result of the invocation `invokeStart` started (when takeResult gave null). */
  startedResult(): Promise<RuntimeResult> | null;
}

/** The bundle's one export: installs the globals and hands back the entry points. */
export type Bootstrap = (host: HostBindings) => RuntimeEntryPoints;
