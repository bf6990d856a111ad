/**
 * The script-facing declarations: what a PiCloud script finds on its global object
 * (docs/scripts.md, docs/executor.md "Sandbox"). The runtime's implementations are checked
 * against these (`globals.ts` builds a {@link ScriptGlobals}; the classes implement the
 * instance interfaces), so a missing member or a changed signature fails the typecheck.
 * Modelled on the WHATWG / W3C definitions, limited to what the runtime implements.
 */

export type BufferSource = ArrayBuffer | ArrayBufferView;

// ---- encoding ------------------------------------------------------------------------

export interface TextEncoderApi {
  readonly encoding: string;
  encode(input?: string): Uint8Array;
  encodeInto(input: string, dest: Uint8Array): { read: number; written: number };
}
export interface TextEncoderConstructor {
  new (): TextEncoderApi;
  readonly prototype: TextEncoderApi;
}

export interface TextDecoderOptions {
  fatal?: boolean;
  ignoreBOM?: boolean;
}
export interface TextDecoderApi {
  readonly encoding: string;
  readonly fatal: boolean;
  readonly ignoreBOM: boolean;
  decode(input?: BufferSource): string;
}
export interface TextDecoderConstructor {
  new (label?: string, options?: TextDecoderOptions): TextDecoderApi;
  readonly prototype: TextDecoderApi;
}

export interface DOMExceptionApi extends Error {
  readonly name: string;
  readonly message: string;
}
export interface DOMExceptionConstructor {
  new (message?: string, name?: string): DOMExceptionApi;
  readonly prototype: DOMExceptionApi;
}

// ---- URL -----------------------------------------------------------------------------

export type URLSearchParamsInit = string | Iterable<Iterable<string>> | Record<string, string> | URLSearchParamsApi;

export interface URLSearchParamsApi extends Iterable<[string, string]> {
  readonly size: number;
  append(name: string, value: string): void;
  delete(name: string, value?: string): void;
  get(name: string): string | null;
  getAll(name: string): string[];
  has(name: string, value?: string): boolean;
  set(name: string, value: string): void;
  sort(): void;
  forEach(fn: (value: string, key: string, parent: URLSearchParamsApi) => void, thisArg?: unknown): void;
  entries(): IterableIterator<[string, string]>;
  keys(): IterableIterator<string>;
  values(): IterableIterator<string>;
  toString(): string;
}
export interface URLSearchParamsConstructor {
  new (init?: URLSearchParamsInit): URLSearchParamsApi;
  readonly prototype: URLSearchParamsApi;
}

export interface URLApi {
  href: string;
  readonly origin: string;
  readonly protocol: string;
  readonly username: string;
  readonly password: string;
  readonly host: string;
  readonly hostname: string;
  readonly port: string;
  pathname: string;
  search: string;
  readonly searchParams: URLSearchParamsApi;
  hash: string;
  toString(): string;
  toJSON(): string;
}
export interface URLConstructor {
  new (url: string | URLApi, base?: string | URLApi): URLApi;
  canParse(url: string | URLApi, base?: string | URLApi): boolean;
  parse(url: string | URLApi, base?: string | URLApi): URLApi | null;
  readonly prototype: URLApi;
}

// ---- events and cancellation ----------------------------------------------------------

export interface EventApi {
  readonly type: string;
}
export interface EventConstructor {
  new (type: string): EventApi;
  readonly prototype: EventApi;
}

export type EventListener = ((event: EventApi) => void) | { handleEvent(event: EventApi): void };

export interface EventTargetApi {
  addEventListener(type: string, listener: EventListener | null, options?: { once?: boolean }): void;
  removeEventListener(type: string, listener: EventListener | null): void;
  dispatchEvent(event: EventApi): boolean;
}
export interface EventTargetConstructor {
  new (): EventTargetApi;
  readonly prototype: EventTargetApi;
}

export interface AbortSignalApi extends EventTargetApi {
  readonly aborted: boolean;
  readonly reason: unknown;
  onabort: ((event: EventApi) => void) | null;
  throwIfAborted(): void;
}
export interface AbortSignalConstructor {
  abort(reason?: unknown): AbortSignalApi;
  timeout(ms: number): AbortSignalApi;
  any(signals: Iterable<AbortSignalApi>): AbortSignalApi;
  readonly prototype: AbortSignalApi;
}

export interface AbortControllerApi {
  readonly signal: AbortSignalApi;
  abort(reason?: unknown): void;
}
export interface AbortControllerConstructor {
  new (): AbortControllerApi;
  readonly prototype: AbortControllerApi;
}

// ---- HTTP ----------------------------------------------------------------------------

export type HeadersInit = HeadersApi | Iterable<Iterable<string>> | Record<string, string>;

export interface HeadersApi extends Iterable<[string, string]> {
  append(name: string, value: string): void;
  delete(name: string): void;
  get(name: string): string | null;
  getSetCookie(): string[];
  has(name: string): boolean;
  set(name: string, value: string): void;
  forEach(fn: (value: string, key: string, parent: HeadersApi) => void, thisArg?: unknown): void;
  entries(): IterableIterator<[string, string]>;
  keys(): IterableIterator<string>;
  values(): IterableIterator<string>;
}
export interface HeadersConstructor {
  new (init?: HeadersInit | null): HeadersApi;
  readonly prototype: HeadersApi;
}

/** Bodies are bytes: a string, bytes, or form parameters (anything else is stringified). */
export type BodyInit = string | BufferSource | URLSearchParamsApi;

export interface BodyApi {
  readonly bodyUsed: boolean;
  arrayBuffer(): Promise<ArrayBuffer>;
  bytes(): Promise<Uint8Array>;
  text(): Promise<string>;
  json(): Promise<unknown>;
  /** Not supported: rejects with a TypeError. */
  formData(): Promise<never>;
}

export type RequestRedirect = "follow" | "manual" | "error";

export interface RequestInit {
  method?: string;
  headers?: HeadersInit;
  body?: BodyInit | null;
  redirect?: RequestRedirect;
  signal?: AbortSignalApi | null;
}
export interface RequestApi extends BodyApi {
  readonly method: string;
  readonly url: string;
  readonly headers: HeadersApi;
  readonly redirect: string;
  readonly signal: AbortSignalApi | null;
  clone(): RequestApi;
}
export interface RequestConstructor {
  new (input: string | URLApi | RequestApi, init?: RequestInit): RequestApi;
  readonly prototype: RequestApi;
}

export interface ResponseInit {
  status?: number;
  statusText?: string;
  headers?: HeadersInit;
}
export interface ResponseApi extends BodyApi {
  readonly status: number;
  readonly statusText: string;
  readonly ok: boolean;
  readonly headers: HeadersApi;
  readonly url: string;
  readonly redirected: boolean;
  readonly type: string;
  clone(): ResponseApi;
}
export interface ResponseConstructor {
  new (body?: BodyInit | null, init?: ResponseInit): ResponseApi;
  json(data: unknown, init?: ResponseInit): ResponseApi;
  redirect(url: string | URLApi, status?: number): ResponseApi;
  /** Not supported: throws a TypeError. */
  error(): never;
  readonly prototype: ResponseApi;
}

export type Fetch = (input: string | URLApi | RequestApi, init?: RequestInit) => Promise<ResponseApi>;

// ---- crypto --------------------------------------------------------------------------

export type HashAlgorithm = string | { name: string };
export type HmacAlgorithm = string | { name: string };
export interface HmacImportParams {
  name: string;
  hash: HashAlgorithm;
}

export interface CryptoKeyApi {
  readonly type: string;
  readonly algorithm: { readonly name: string; readonly hash: { readonly name: string }; readonly length: number };
  readonly extractable: boolean;
  readonly usages: readonly string[];
}

export interface SubtleCryptoApi {
  digest(algorithm: HashAlgorithm, data: BufferSource): Promise<ArrayBuffer>;
  importKey(
    format: string,
    keyData: BufferSource,
    algorithm: HmacImportParams,
    extractable: boolean,
    usages: readonly string[],
  ): Promise<CryptoKeyApi>;
  exportKey(format: string, key: CryptoKeyApi): Promise<ArrayBuffer>;
  sign(algorithm: HmacAlgorithm, key: CryptoKeyApi, data: BufferSource): Promise<ArrayBuffer>;
  verify(algorithm: HmacAlgorithm, key: CryptoKeyApi, signature: BufferSource, data: BufferSource): Promise<boolean>;
}

export interface CryptoApi {
  readonly subtle: SubtleCryptoApi;
  getRandomValues<T extends ArrayBufferView>(array: T): T;
  randomUUID(): string;
}

// ---- console, logs, timers -----------------------------------------------------------

export interface ConsoleApi {
  log(...args: unknown[]): void;
  info(...args: unknown[]): void;
  debug(...args: unknown[]): void;
  trace(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  assert(condition: unknown, ...args: unknown[]): void;
  table(...args: unknown[]): void;
  dir(...args: unknown[]): void;
}

/** Structured logs: `data` is kept as JSON in the execution log. */
export interface LogApi {
  debug(message: string, data?: unknown): void;
  info(message: string, data?: unknown): void;
  warn(message: string, data?: unknown): void;
  error(message: string, data?: unknown): void;
}

export type TimerHandler = (...args: unknown[]) => void;

export interface PerformanceApi {
  readonly timeOrigin: number;
  now(): number;
}

// ---- the global object ---------------------------------------------------------------

/** The handler's second argument (`export default function (req, ctx)`). */
export interface ScriptContext {
  readonly executionId: string;
  readonly scriptName: string;
  readonly version: number;
  readonly env: Readonly<Record<string, string>>;
  /** Swallows the promise's rejection; work after the response is not kept alive. */
  waitUntil(promise: unknown): void;
}

/** The handler a script's default export provides. */
export type ScriptHandler =
  | ((req: RequestApi, ctx: ScriptContext) => unknown)
  | { fetch(req: RequestApi, env: Readonly<Record<string, string>>, ctx: ScriptContext): unknown };

/**
 * The values the runtime installs on the global object (non-enumerable, writable). Besides
 * these: `env` (a read-only getter of the invocation's env) and `self` (the global object);
 * `WebAssembly` is removed.
 */
export interface ScriptGlobals {
  console: ConsoleApi;
  log: LogApi;
  setTimeout(fn: TimerHandler, ms?: number, ...args: unknown[]): number;
  setInterval(fn: TimerHandler, ms?: number, ...args: unknown[]): number;
  clearTimeout(id: number | undefined): void;
  clearInterval(id: number | undefined): void;
  queueMicrotask(fn: () => void): void;
  crypto: CryptoApi;
  structuredClone<T>(value: T): T;
  TextEncoder: TextEncoderConstructor;
  TextDecoder: TextDecoderConstructor;
  atob(data: string): string;
  btoa(data: string): string;
  URL: URLConstructor;
  URLSearchParams: URLSearchParamsConstructor;
  Headers: HeadersConstructor;
  Request: RequestConstructor;
  Response: ResponseConstructor;
  fetch: Fetch;
  DOMException: DOMExceptionConstructor;
  Event: EventConstructor;
  EventTarget: EventTargetConstructor;
  AbortController: AbortControllerConstructor;
  AbortSignal: AbortSignalConstructor;
  performance: PerformanceApi;
}
