/**
 * Built-ins the runtime relies on, captured when the bundle is evaluated: that happens
 * before any script code runs, so a script that overrides them (JSON.stringify,
 * Reflect.apply, Promise.prototype.then, ...) only affects itself (docs/executor.md).
 */

export const ReflectApply = Reflect.apply;
const JSONStringifyRaw = JSON.stringify;
const JSONParseRaw = JSON.parse;
export const JSONStringify = (v: unknown): string | undefined => ReflectApply(JSONStringifyRaw, JSON, [v]);
export const JSONParse = (s: string): unknown => ReflectApply(JSONParseRaw, JSON, [s]);
export const StringFromCharCode = String.fromCharCode;
export const ObjectProtoToString = (v: unknown): string => ReflectApply(Object.prototype.toString, v, []);
export const ObjectFreeze = Object.freeze;
export const ObjectCreate = Object.create;
export const ObjectDefineProperty = Object.defineProperty;
export const WeakSetHas = (set: WeakSet<object>, v: object): boolean => ReflectApply(WeakSet.prototype.has, set, [v]);
export const ErrorCtor = Error;
export const NativePromise = Promise;
export const PromiseThen = NativePromise.prototype.then;
