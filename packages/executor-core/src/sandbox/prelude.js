// biome-ignore-all lint/correctness/noUnusedVariables: bootstrap parts share one closure scope (see bootstrap.ts)
// Sandbox bootstrap, part 0. The whole bootstrap is one closure body evaluated with
// `context.evalClosure`: the host callbacks arrive as $0..$5 and live only in this
// closure, never on the global object, so user code cannot reach them. Built-ins the
// runtime depends on are captured here, before any user code can override them.
/* global $0, $1, $2, $3, $4, $5 */
const ReflectApply = Reflect.apply;
const hostLog = $0;
const hostRandom = $3;
const hostCrypto = $4;
const hostAbortFetch = $5;
// $1 and $2 are isolated-vm References to host functions returning promises. Option
// objects have no prototype so that a polluted Object.prototype cannot change how
// values cross (e.g. an inherited `reference: true` would hand out host references).
const refApply = $1.apply;
const callRef = (ref, arg) =>
  ReflectApply(refApply, ref, [
    undefined,
    [arg],
    {
      __proto__: null,
      arguments: { __proto__: null, copy: true },
      result: { __proto__: null, promise: true, copy: true },
    },
  ]);
const fetchRef = $1;
const sleepRef = $2;
const hostFetch = (req) => callRef(fetchRef, req);
const hostSleep = (ms) => callRef(sleepRef, ms);

const JSONStringifyRaw = JSON.stringify;
const JSONParseRaw = JSON.parse;
const JSONStringify = (v) => ReflectApply(JSONStringifyRaw, JSON, [v]);
const JSONParse = (s) => ReflectApply(JSONParseRaw, JSON, [s]);
const StringFromCharCode = String.fromCharCode;
const ObjectProtoToString = (v) => ReflectApply(Object.prototype.toString, v, []);
const ObjectFreeze = Object.freeze;
const ObjectCreate = Object.create;
const ObjectDefineProperty = Object.defineProperty;
const WeakSetHas = (set, v) => ReflectApply(WeakSet.prototype.has, set, [v]);
const ErrorCtor = Error;
const NativePromise = Promise;
