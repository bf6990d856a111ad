import { createHash, createHmac, randomBytes } from "node:crypto";
import ivm from "isolated-vm";
import type { HostFetcher, InvocationState } from "./invocation-state.ts";
import type { HostBindings, HostFetchRequest } from "./sandbox/protocol.ts";

const never = (): Promise<never> => new Promise<never>(() => {});

const HASHES: Record<string, string> = {
  "SHA-1": "sha1",
  "SHA-256": "sha256",
  "SHA-384": "sha384",
  "SHA-512": "sha512",
};

/** crypto.subtle's host half: digests and HMAC over copied bytes (sync; cost bounded by the heap limit). */
function hostCrypto(op: unknown, alg: unknown, key: unknown, data: unknown): Uint8Array {
  const hash = HASHES[String(alg)];
  if (!hash || !(data instanceof Uint8Array)) throw new TypeError("unsupported algorithm or data");
  if (op === "digest") return new Uint8Array(createHash(hash).update(data).digest());
  if (op === "hmac" && key instanceof Uint8Array) return new Uint8Array(createHmac(hash, key).update(data).digest());
  throw new TypeError("unsupported operation");
}

/** The host's callbacks by the names of the runtime's `HostBindings` (they arrive there as functions and References). */
export type HostBindingRefs = Record<keyof HostBindings, ivm.Callback | ivm.Reference>;

/**
 * The host side of the runtime's `HostBindings` (sandbox/protocol.ts), as isolated-vm
 * Callbacks and References. They act for whichever invocation `active()` names, and do
 * nothing between invocations: a late timer or fetch answer is dropped rather than
 * delivered into the next invocation. Arguments from the isolate are untrusted data.
 */
export function createHostBindings(active: () => InvocationState | null, fetcher: HostFetcher): HostBindingRefs {
  return {
    log: new ivm.Callback((level: unknown, msg: unknown, data: unknown, trunc: unknown) => {
      active()?.logs.add(level, msg, data, trunc);
    }),
    fetch: new ivm.Reference(async (req: HostFetchRequest) => {
      const s = active();
      if (!s) return never();
      const r = await fetcher(req, s);
      return active() === s ? r : never(); // answers after the invocation ended are dropped
    }),
    sleep: new ivm.Reference((ms: unknown) => {
      const s = active();
      // The isolate bounds its timers; this is the host's own backstop.
      if (!s || s.timers.size >= 20_000) return never();
      return new Promise<void>((resolve) => {
        const t = setTimeout(
          () => {
            s.timers.delete(t);
            resolve();
          },
          Math.min(Math.max(0, Number(ms) || 0), 2 ** 31 - 1),
        );
        s.timers.add(t);
      });
    }),
    random: new ivm.Callback((n: unknown) => new Uint8Array(randomBytes(Math.min(65536, Number(n) || 0)))),
    crypto: new ivm.Callback(hostCrypto),
    abortFetch: new ivm.Callback((id: unknown) => {
      active()?.fetchAborts.get(Number(id))?.abort();
    }),
  };
}
