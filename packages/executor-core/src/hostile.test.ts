import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { InvocationOutcome } from "@picloud/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProcessExecutor } from "./process-executor.ts";
import { bodyText, expectHealthy, run, type TestCall } from "./test-support.ts";

// Every case runs against the supervised child process (so a V8 abort is contained),
// asserts the exact status and reason, then checks a normal script still answers.

let server: Server;
let port = 0;
let ex: ProcessExecutor;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === "/to-metadata") res.writeHead(302, { location: "http://169.254.169.254/latest/meta-data/" }).end();
    else if (req.url === "/to-loopback") res.writeHead(307, { location: "http://[::1]:9/" }).end();
    else res.end("pong");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
  ex = new ProcessExecutor({ fetchAllowHosts: [`127.0.0.1:${port}`], stdio: "ignore", graceMs: 1500 });
  expect(await ex.ready()).toBe(true);
});

afterAll(async () => {
  await ex?.close();
  await new Promise((r) => server?.close(r));
});

type Case = {
  name: string;
  src: string | (() => string);
  status: InvocationOutcome["status"];
  reason: string;
  call?: TestCall;
  check?: (o: InvocationOutcome) => void;
};

const handler = (body: string): string => `export default async function (req, ctx) {\n${body}\n}`;
const refused = (o: InvocationOutcome): void => {
  expect(bodyText(o)).toMatch(/^TypeError: fetch failed: refused/);
};
const caught = (url: string): string =>
  handler(
    `try { await fetch(${JSON.stringify(url)}); return "fetched!"; } catch (e) { return e.name + ": " + e.message; }`,
  );

const cases: Case[] = [
  { name: "sync infinite loop", src: handler("for (;;) {}"), status: "timeout", reason: "cpu_time" },
  { name: "async infinite loop", src: handler("for (;;) { await null; }"), status: "timeout", reason: "cpu_time" },
  {
    name: "microtask flood",
    src: handler("const f = () => { Promise.resolve().then(f); }; f(); return new Promise(() => {});"),
    status: "timeout",
    reason: "cpu_time",
  },
  {
    name: "never-settling promise",
    src: handler("await new Promise(() => {});"),
    status: "timeout",
    reason: "wall_time",
  },
  {
    name: "interval that never ends",
    src: handler("setInterval(() => {}, 10); await new Promise(() => {});"),
    status: "timeout",
    reason: "wall_time",
  },
  {
    name: "self-rescheduling timers",
    src: handler("const t = () => setTimeout(t, 0); t(); await new Promise(() => {});"),
    status: "timeout",
    reason: "wall_time",
  },
  {
    name: "timer longer than the budget",
    src: handler("await new Promise((r) => setTimeout(r, 60_000)); return 'late';"),
    status: "timeout",
    reason: "wall_time",
  },
  {
    name: "timer flood",
    src: handler("for (;;) setTimeout(() => {}, 1e6);"),
    status: "error",
    reason: "script_threw",
    check: (o) => expect(o.error?.message).toMatch(/too many pending timers/),
    call: { budgets: { cpuTimeMs: 3000, wallTimeMs: 4000 } },
  },
  { name: "ReDoS", src: handler("return /(a+)+$/.test('a'.repeat(40) + 'b');"), status: "timeout", reason: "cpu_time" },
  // isolated-vm counts a blocked Atomics.wait as CPU time of the isolate.
  {
    name: "Atomics.wait",
    src: handler("Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); return 'woke';"),
    status: "timeout",
    reason: "cpu_time",
  },
  {
    name: "retained memory growth",
    src: handler("const a = []; for (let i = 0; ; i++) a.push(new Array(4096).fill(i));"),
    status: "budget_exceeded",
    reason: "heap",
    call: { budgets: { cpuTimeMs: 3000, wallTimeMs: 4000 } },
  },
  {
    name: "string doubling (flattened)",
    src: handler("let s = 'x'; for (;;) { s = s + s; s.indexOf('y'); }"),
    status: "budget_exceeded",
    reason: "heap",
    call: { budgets: { cpuTimeMs: 3000, wallTimeMs: 4000 } },
  },
  {
    name: "ArrayBuffer bomb",
    src: handler("return new ArrayBuffer(2 ** 31).byteLength;"),
    status: "budget_exceeded",
    reason: "heap",
  },
  {
    name: "TypedArray bomb",
    src: handler("const a = []; for (;;) a.push(new Float64Array(1 << 18));"),
    status: "budget_exceeded",
    reason: "heap",
    call: { budgets: { cpuTimeMs: 3000, wallTimeMs: 4000 } },
  },
  {
    name: "new Array(1e9).fill(0) aborts V8: only the child dies",
    src: handler("new Array(1e9).fill(0); return 'filled';"),
    status: "error",
    reason: "executor_crashed",
  },
  {
    name: "WebAssembly memory growth",
    src: handler("const m = new WebAssembly.Memory({ initial: 1 }); for (;;) m.grow(100);"),
    status: "error",
    reason: "script_threw",
    check: (o) => expect(o.error?.name).toBe("ReferenceError"),
  },
  {
    name: "deep recursion",
    src: handler("const f = (n) => f(n + 1) + 1; return f(0);"),
    status: "error",
    reason: "script_threw",
    check: (o) => expect(o.error?.name).toBe("RangeError"),
  },
  {
    name: "log spam is capped with a marker",
    src: handler("for (let i = 0; i < 100000; i++) console.log('spam', i); return 'done';"),
    status: "success",
    reason: "ok",
    check: (o) => {
      expect(o.logsTruncated).toBe(true);
      expect(o.logs.length).toBeLessThanOrEqual(51);
      expect(o.logs.at(-1)?.message).toMatch(/log truncated/);
    },
  },
  {
    name: "huge string response",
    src: handler("return 'x'.repeat(2_000_000);"),
    status: "budget_exceeded",
    reason: "response_too_large",
  },
  {
    name: "huge binary response",
    src: handler("return new Response(new Uint8Array(1_500_000));"),
    status: "budget_exceeded",
    reason: "response_too_large",
  },
  {
    name: "fetch 127.0.0.1 (uncaught TypeError)",
    src: handler("await fetch('http://127.0.0.1:9/');"),
    status: "error",
    reason: "script_threw",
    check: (o) => {
      expect(o.error?.name).toBe("TypeError");
      expect(o.error?.message).toMatch(/refused/);
    },
  },
  { name: "fetch [::1]", src: caught("http://[::1]:9/"), status: "success", reason: "ok", check: refused },
  { name: "fetch 10.0.0.1", src: caught("http://10.0.0.1/"), status: "success", reason: "ok", check: refused },
  {
    name: "fetch 169.254.169.254",
    src: caught("http://169.254.169.254/latest/meta-data/"),
    status: "success",
    reason: "ok",
    check: refused,
  },
  {
    name: "fetch ::ffff:127.0.0.1 (mapped)",
    src: caught("http://[::ffff:127.0.0.1]:9/"),
    status: "success",
    reason: "ok",
    check: refused,
  },
  {
    name: "fetch 0x7f.1 (IPv4 shorthand)",
    src: caught("http://0x7f.1:9/"),
    status: "success",
    reason: "ok",
    check: refused,
  },
  {
    name: "fetch localhost (resolved)",
    src: () => caught(`http://localhost:${port}/`),
    status: "success",
    reason: "ok",
    check: refused,
  },
  {
    name: "fetch redirect to metadata",
    src: () => caught(`http://127.0.0.1:${port}/to-metadata`),
    status: "success",
    reason: "ok",
    check: refused,
  },
  {
    name: "fetch redirect to [::1]",
    src: () => caught(`http://127.0.0.1:${port}/to-loopback`),
    status: "success",
    reason: "ok",
    check: refused,
  },
  {
    name: "fetch count cap",
    src: () =>
      handler(
        `for (let i = 0; i < 10; i++) { try { await fetch('http://127.0.0.1:${port}/'); } catch {} } return 'kept going';`,
      ),
    status: "budget_exceeded",
    reason: "fetch_limit",
  },
  {
    name: "constructor-chain escape",
    src: handler(
      "const p = ({}).constructor.constructor('return this.process')(); const q = req.constructor.constructor('return typeof process')(); return [typeof p, q];",
    ),
    status: "success",
    reason: "ok",
    check: (o) => expect(bodyText(o)).toBe('["undefined","undefined"]'),
  },
  {
    name: "constructor-chain escape via Promise and Error",
    src: handler(
      "const a = Promise.resolve().constructor.constructor('return typeof process + typeof require')(); const b = new Error('x').constructor.constructor('return typeof module')(); const c = (async () => {}).constructor('return 1')().constructor.constructor('return typeof global')(); return [a, b, c];",
    ),
    status: "success",
    reason: "ok",
    check: (o) => expect(bodyText(o)).toBe('["undefinedundefined","undefined","undefined"]'),
  },
  {
    name: "Error.prepareStackTrace call-site probing",
    src: handler(
      "Error.prepareStackTrace = (e, cs) => cs.map((c) => { const t = c.getThis(); return t && t.process ? 'HOST' : typeof c.getFunction(); }); try { await fetch('http://10.0.0.1/'); } catch (e) { return { s: String(e.stack), p: typeof process }; }",
    ),
    status: "success",
    reason: "ok",
    check: (o) => expect(bodyText(o)).not.toMatch(/HOST|"p":"object"/),
  },
  {
    name: "reaching for host globals",
    src: handler(
      "const names = ['process', 'require', 'module', 'Deno', 'Bun', 'global', 'Buffer', '$0', '$1', '$2', '$3', '$4', 'ivm', '_ivm', 'WebAssembly']; return names.map((n) => typeof globalThis[n]).concat(Object.getOwnPropertyNames(globalThis).filter((n) => names.includes(n)));",
    ),
    status: "success",
    reason: "ok",
    check: (o) => expect(JSON.parse(bodyText(o))).toEqual(new Array(15).fill("undefined")),
  },
  {
    name: "polluted Object.prototype cannot turn copies into references",
    src: handler(
      "Object.prototype.reference = true; Object.prototype.copy = false; Object.prototype.externalCopy = true; await new Promise((r) => setTimeout(r, 5)); let m; try { await fetch('http://10.0.0.1/'); } catch (e) { m = e.message; } return typeof m;",
    ),
    status: "success",
    reason: "ok",
    check: (o) => expect(bodyText(o)).toBe("string"),
  },
  {
    name: "overriding JSON and Array built-ins",
    src: handler(
      "JSON.stringify = () => { throw new Error('hijacked'); }; Array.prototype.map = null; Array.prototype[Symbol.iterator] = function* () { for(;;) yield 1; }; Object.prototype.toJSON = undefined; return { still: 'json' };",
    ),
    status: "success",
    reason: "ok",
    check: (o) => expect(bodyText(o)).toBe('{"still":"json"}'),
  },
  {
    name: "throw null",
    src: handler("throw null;"),
    status: "error",
    reason: "script_threw",
    check: (o) => expect(o.error?.message).toBe("Uncaught null"),
  },
  {
    name: "throw a string",
    src: handler("throw 'boom';"),
    status: "error",
    reason: "script_threw",
    check: (o) => expect(o.error?.message).toBe("boom"),
  },
  {
    name: "throw an object with a looping getter",
    src: handler("throw { get message() { for (;;) {} } };"),
    status: "timeout",
    reason: "cpu_time",
  },
  {
    name: "throw an object with throwing getters",
    src: handler(
      "throw { get message() { throw new Error('no'); }, get name() { throw 1; }, get stack() { throw 2; }, toString() { throw 3; } };",
    ),
    status: "error",
    reason: "script_threw",
  },
  {
    name: "throw a hostile Proxy",
    src: handler(
      "throw new Proxy({}, { get() { throw new Error('trap'); }, getPrototypeOf() { throw 1; }, ownKeys() { throw 2; } });",
    ),
    status: "error",
    reason: "script_threw",
  },
  { name: "return a function", src: handler("return () => 1;"), status: "error", reason: "invalid_return" },
  {
    name: "return a cyclic object",
    src: handler("const o = {}; o.self = o; return o;"),
    status: "error",
    reason: "invalid_return",
  },
  { name: "return a BigInt", src: handler("return { n: 10n };"), status: "error", reason: "invalid_return" },
  {
    name: "return an object with a throwing toJSON",
    src: handler("return { toJSON() { throw new Error('nope'); } };"),
    status: "error",
    reason: "invalid_return",
  },
  {
    name: "return a hostile Proxy",
    src: handler(
      "return new Proxy({}, { ownKeys() { throw new Error('trap'); }, get(t, k) { if (k === 'then') return undefined; throw new Error('trap'); } });",
    ),
    status: "error",
    reason: "invalid_return",
  },
  {
    name: "dynamic import at run time",
    src: "export default async () => { const m = 'fs'; return typeof (await import(m)); }",
    status: "error",
    reason: "script_threw",
  },
  {
    name: "request body over its cap",
    src: handler("return 'read';"),
    status: "budget_exceeded",
    reason: "request_too_large",
    call: { method: "POST", body: new Uint8Array(100_000) },
  },
];

describe("hostile scripts (ProcessExecutor)", () => {
  for (const c of cases) {
    it(c.name, async () => {
      const src = typeof c.src === "function" ? c.src() : c.src;
      const o = await run(ex, src, { id: `hostile-${c.name}`, name: "hostile", ...c.call });
      expect({ status: o.status, reason: o.reason }, JSON.stringify(o.error)).toEqual({
        status: c.status,
        reason: c.reason,
      });
      c.check?.(o);
      await expectHealthy(ex);
    });
  }

  it("prototype pollution does not reach another script", async () => {
    const a = await run(
      ex,
      handler("Object.prototype.polluted = 'yes'; Array.prototype.push = () => 0; return 'polluted';"),
      { id: "polluter" },
    );
    expect(a.status).toBe("success");
    const b = await run(
      ex,
      handler("const x = []; x.push(1); return { polluted: ({}).polluted ?? null, len: x.length };"),
      { id: "victim" },
    );
    expect(bodyText(b)).toBe('{"polluted":null,"len":1}');
  });

  it("counts at least 30 cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });
});
