import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Executor } from "@picloud/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InProcessExecutor } from "./in-process-executor.ts";
import { ProcessExecutor } from "./process-executor.ts";
import { bodyText, header, run } from "./test-support.ts";

// The same contract suite runs in-process and through the supervised child (RPC included).
const executors: Record<string, Executor> = {};
let server: Server;
let port = 0;
/** /slow requests whose client went away before the answer, by `tag` query parameter. */
const slowCancelled = new Map<string, number>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const u = new URL(req.url ?? "/", "http://x");
      const tag = u.searchParams.get("tag") ?? "";
      if (u.pathname === "/cancelled") return void res.end(String(slowCancelled.get(tag) ?? 0));
      if (req.url === "/redirect") return void res.writeHead(302, { location: "/echo" }).end();
      if (req.url === "/big") return void res.end(Buffer.alloc(200_000, 1));
      if (u.pathname === "/slow") {
        const t = setTimeout(() => res.end("late"), 1000);
        res.on("close", () => {
          if (!res.writableFinished) slowCancelled.set(tag, (slowCancelled.get(tag) ?? 0) + 1);
          clearTimeout(t);
        });
        return;
      }
      res.setHeader("content-type", "application/json");
      res.end(
        JSON.stringify({
          method: req.method,
          url: req.url,
          body: Buffer.concat(chunks).toString(),
          h: req.headers["x-test"] ?? null,
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
  const fetchAllowHosts = [`127.0.0.1:${port}`];
  executors["in-process"] = new InProcessExecutor({ fetchAllowHosts });
  executors["process"] = new ProcessExecutor({ fetchAllowHosts, stdio: "ignore" });
});
afterAll(async () => {
  for (const e of Object.values(executors)) await e.close();
  await new Promise((r) => server.close(r));
});

describe.each(["in-process", "process"])("web APIs inside the sandbox (%s)", (mode) => {
  let ex: Executor;
  beforeAll(() => {
    ex = executors[mode] as Executor;
  });

  it("req.json(), headers (case-insensitive), searchParams, Response.json", async () => {
    const o = await run(
      ex,
      `export default async (req: Request) => {
        const body = await req.json();
        const u = new URL(req.url);
        return Response.json({ body, ct: req.headers.get("CONTENT-TYPE"), q: u.searchParams.get("q"), m: req.method, path: u.pathname }, { status: 201 });
      }`,
      {
        method: "POST",
        url: "https://h.test/a/b?q=hi%20there",
        headers: [
          [":authority", "dropped"],
          ["Content-Type", "application/json"],
        ],
        body: '{"a":[1,2]}',
      },
    );
    expect(o.status).toBe("success");
    expect(o.response?.status).toBe(201);
    expect(header(o, "content-type")).toBe("application/json");
    expect(JSON.parse(bodyText(o))).toEqual({
      body: { a: [1, 2] },
      ct: "application/json",
      q: "hi there",
      m: "POST",
      path: "/a/b",
    });
  });

  it("req.text(), new Response(body, {status, headers}), Headers iteration sorted and combined", async () => {
    const o = await run(
      ex,
      `export default async (req) => {
        const h = new Headers([["B", "2"], ["a", "1"], ["b", "3"]]);
        return new Response("got " + (await req.text()), { status: 418, headers: { "X-List": JSON.stringify([...h]) } });
      }`,
      { method: "PUT", body: "héllo wörld" },
    );
    expect(o.response?.status).toBe(418);
    expect(bodyText(o)).toBe("got héllo wörld");
    expect(JSON.parse(header(o, "x-list") ?? "")).toEqual([
      ["a", "1"],
      ["b", "2, 3"],
    ]);
    expect(header(o, "content-type")).toBe("text/plain;charset=UTF-8");
  });

  it("Response.redirect, string → text/plain, undefined → 204, value → JSON", async () => {
    const r = await run(ex, `export default () => Response.redirect("https://example.com/x", 301)`);
    expect([r.response?.status, header(r, "location")]).toEqual([301, "https://example.com/x"]);
    const s = await run(ex, `export default () => "plain"`, { id: "s" });
    expect([header(s, "content-type"), bodyText(s)]).toEqual(["text/plain;charset=UTF-8", "plain"]);
    const u = await run(ex, `export default () => undefined`, { id: "u" });
    expect([u.response?.status, u.response?.body.byteLength]).toEqual([204, 0]);
    const j = await run(ex, `export default () => [1, "two", { three: 3 }]`, { id: "j" });
    expect([header(j, "content-type"), bodyText(j)]).toEqual(["application/json", '[1,"two",{"three":3}]']);
  });

  it("binary bodies survive byte for byte", async () => {
    const input = new Uint8Array(256 * 4).map((_, i) => i % 256);
    const o = await run(
      ex,
      `export default async (req) => {
        const b = new Uint8Array(await req.arrayBuffer());
        return new Response(b.map((x) => 255 - x), { headers: { "content-type": "application/octet-stream" } });
      }`,
      { method: "POST", body: input },
    );
    expect(Array.from(o.response?.body ?? [])).toEqual(Array.from(input.map((x) => 255 - x)));
  });

  it("TextEncoder/TextDecoder round-trip UTF-8, atob/btoa, structuredClone, crypto", async () => {
    const o = await run(
      ex,
      `export default () => {
        const s = "héllo 👋 世界";
        const bytes = new TextEncoder().encode(s);
        const clone = structuredClone({ d: new Date(0), m: new Map([[1, { x: 1 }]]) });
        const uuid = crypto.randomUUID();
        const rnd = crypto.getRandomValues(new Uint8Array(8));
        return { len: bytes.length, back: new TextDecoder().decode(bytes), b64: btoa("hi!"), raw: atob("aGkh"),
          clone: clone.m.get(1).x, date: clone.d instanceof Date, uuid: /^[0-9a-f-]{36}$/.test(uuid), rnd: rnd.length };
      }`,
    );
    expect(JSON.parse(bodyText(o))).toEqual({
      len: 18,
      back: "héllo 👋 世界",
      b64: "aGkh",
      raw: "hi!",
      clone: 1,
      date: true,
      uuid: true,
      rnd: 8,
    });
  });

  it("crypto.subtle: digest and HMAC sign/verify match Node", async () => {
    const o = await run(
      ex,
      `export default async () => {
        const hex = (b) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");
        const data = new TextEncoder().encode("hello");
        const key = await crypto.subtle.importKey("raw", new TextEncoder().encode("secret"), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
        const sig = await crypto.subtle.sign("HMAC", key, data);
        return { sha256: hex(await crypto.subtle.digest("SHA-256", data)), sha1: hex(await crypto.subtle.digest({ name: "SHA-1" }, data)),
          hmac: hex(sig), ok: await crypto.subtle.verify("HMAC", key, sig, data), bad: await crypto.subtle.verify("HMAC", key, sig, new Uint8Array(1)) };
      }`,
    );
    const { createHash, createHmac } = await import("node:crypto");
    expect(JSON.parse(bodyText(o))).toEqual({
      sha256: createHash("sha256").update("hello").digest("hex"),
      sha1: createHash("sha1").update("hello").digest("hex"),
      hmac: createHmac("sha256", "secret").update("hello").digest("hex"),
      ok: true,
      bad: false,
    });
  });

  it("URL parsing and URLSearchParams", async () => {
    const o = await run(
      ex,
      `export default () => {
        const u = new URL("../c/./d?x=1&y=a+b#frag", "https://User:pw@Example.COM:443/a/b/");
        u.searchParams.append("z", "é&");
        const p = new URLSearchParams({ a: "1", b: "two words" });
        return { href: u.href, host: u.host, origin: u.origin, y: u.searchParams.get("y"), p: p.toString(), can: URL.canParse("nope") };
      }`,
    );
    expect(JSON.parse(bodyText(o))).toEqual({
      href: "https://User:pw@example.com/a/c/d?x=1&y=a+b&z=%C3%A9%26#frag",
      host: "example.com",
      origin: "https://example.com",
      y: "a b",
      p: "a=1&b=two+words",
      can: false,
    });
  });

  it("module-level state persists across warm calls; export default { fetch(req, env, ctx) }", async () => {
    const src = `let n = 0; export default { async fetch(req, env, ctx) { n++; return { n, secret: env.SECRET, same: env === globalThis.env, id: ctx.executionId.length > 0 }; } };`;
    const a = await run(ex, src, { id: "counter", env: { SECRET: "s3" } });
    const b = await run(ex, src, { id: "counter", env: { SECRET: "s3" } });
    expect(JSON.parse(bodyText(a))).toEqual({ n: 1, secret: "s3", same: true, id: true });
    expect(JSON.parse(bodyText(b)).n).toBe(2);
  });

  it("env is read-only", async () => {
    const o = await run(
      ex,
      `export default () => { let threw = false; try { env.A = "x"; } catch (e) { threw = e instanceof TypeError; } let reassigned = true; try { globalThis.env = {}; } catch { reassigned = false; } return { threw, a: env.A, reassigned: reassigned && env.A !== "1" }; }`,
      { env: { A: "1" } },
    );
    expect(JSON.parse(bodyText(o))).toEqual({ threw: true, a: "1", reassigned: false });
  });

  it("console.* and log.* are captured as structured entries", async () => {
    const o = await run(
      ex,
      `export default () => { console.log("a", 1, { b: 2 }); console.warn("w"); log.error("failed", { code: 7 }); log.debug("d"); return "ok"; }`,
    );
    expect(o.logs.map((l) => [l.level, l.message, l.data])).toEqual([
      ["info", 'a 1 {"b":2}', undefined],
      ["warn", "w", undefined],
      ["error", "failed", { code: 7 }],
      ["debug", "d", undefined],
    ]);
    expect(o.logs.every((l) => typeof l.ts === "number")).toBe(true);
  });

  it("errors carry name, message and a stack pointing into the TypeScript source", async () => {
    const src = `type T = { a: number };\n\nexport default async function (req: Request) {\n  const t: T = { a: 1 };\n  throw new RangeError("bad " + t.a);\n}\n`;
    const o = await run(ex, src, { name: "stacky", version: 3 });
    expect([o.status, o.reason, o.error?.name, o.error?.message]).toEqual([
      "error",
      "script_threw",
      "RangeError",
      "bad 1",
    ]);
    expect(o.error?.stack).toContain("script:stacky@v3:5:9");
    expect(o.error?.stack).not.toContain("isolated-vm");
    const top = await run(ex, `function boom() { throw new Error("init"); }\nboom();\nexport default () => 1;`, {
      name: "top",
      id: "top",
    });
    expect([top.status, top.reason, top.error?.message]).toEqual(["error", "script_threw", "init"]);
    expect(top.error?.stack?.split("\n").slice(1)).toEqual([
      "    at boom (script:top@v1:1:25)",
      "    at script:top@v1:2:1",
    ]);
  });

  it("log.* data that cannot be serialised, and the byte cap", async () => {
    const o = await run(
      ex,
      `export default () => { const c = {}; c.c = c; log.info("cyclic", c); log.warn("big", "x".repeat(5000)); log.warn("bigger", "y".repeat(5000)); log.info("after"); return "ok"; }`,
    );
    expect(o.status).toBe("success");
    expect(o.logs[0]).toMatchObject({ level: "info", message: "cyclic", data: "[unserialisable object]" });
    expect(o.logs[1]?.message).toBe("big");
    expect(o.logs.at(-1)?.message).toMatch(/log truncated/);
    expect(o.logs).toHaveLength(3);
    expect(o.logsTruncated).toBe(true);
  });

  it("fetch redirect modes and the per-fetch timeout", async () => {
    const o = await run(
      ex,
      `export default async () => {
        const manual = await fetch("http://127.0.0.1:${port}/redirect", { redirect: "manual" });
        let error = "";
        try { await fetch("http://127.0.0.1:${port}/redirect", { redirect: "error" }); } catch (e) { error = e.name; }
        let slow = "";
        try { await fetch("http://127.0.0.1:${port}/slow"); } catch (e) { slow = e.name + " " + e.message; }
        return { status: manual.status, location: manual.headers.get("location"), error, slow };
      }`,
      { budgets: { maxFetches: 5, fetchTimeoutMs: 200 } },
    );
    const r = JSON.parse(bodyText(o));
    expect([r.status, r.location, r.error]).toEqual([302, "/echo", "TypeError"]);
    expect(r.slow).toMatch(/^TypeError fetch failed: .*timed out/);
  });

  it("AbortController cancels a fetch; AbortSignal.timeout; performance.now", async () => {
    const o = await run(
      ex,
      `export default async () => {
        const c = new AbortController();
        const p = fetch("http://127.0.0.1:${port}/slow?tag=${mode}", { signal: c.signal });
        setTimeout(() => c.abort(), 20);
        let a = ""; try { await p; } catch (e) { a = e.name; }
        let t = ""; try { await fetch("http://127.0.0.1:${port}/slow?tag=${mode}", { signal: AbortSignal.timeout(20) }); } catch (e) { t = e.name; }
        let pre = ""; try { await fetch("http://127.0.0.1:${port}/echo", { signal: AbortSignal.abort() }); } catch (e) { pre = e.name; }
        let fired = 0; const c2 = new AbortController(); c2.signal.addEventListener("abort", () => fired++); c2.signal.onabort = () => fired++; c2.abort(); c2.abort();
        // While this invocation still runs, the server must see both requests cancelled.
        let seen = 0;
        for (let i = 0; i < 20 && seen < 2; i++) {
          seen = Number(await (await fetch("http://127.0.0.1:${port}/cancelled?tag=${mode}")).text());
          await new Promise((r) => setTimeout(r, 20));
        }
        return { a, t, pre, fired, perf: typeof performance.now(), cancelled: seen };
      }`,
      { budgets: { maxFetches: 30, wallTimeMs: 3000 } },
    );
    expect(JSON.parse(bodyText(o))).toEqual({
      a: "AbortError",
      t: "TimeoutError",
      pre: "AbortError",
      fired: 2,
      perf: "number",
      cancelled: 2,
    });
  });

  it("timers work inside the wall budget", async () => {
    const o = await run(
      ex,
      `export default async () => { const order = []; const id = setTimeout(() => order.push("never"), 5); clearTimeout(id); await new Promise((r) => setTimeout(() => { order.push("t"); r(); }, 10)); return order; }`,
    );
    expect(bodyText(o)).toBe('["t"]');
  });

  it("fetch to an allow-listed local server: JSON, POST body, redirects, byte cap", async () => {
    const o = await run(
      ex,
      `export default async () => {
        const a = await (await fetch("http://127.0.0.1:${port}/echo", { method: "POST", body: "payload", headers: { "X-Test": "yes" } })).json();
        const r = await fetch("http://127.0.0.1:${port}/redirect");
        return { a, redirected: r.redirected, url: r.url, status: r.status, m: (await r.json()).method };
      }`,
      { budgets: { maxFetches: 5 } },
    );
    expect(JSON.parse(bodyText(o))).toEqual({
      a: { method: "POST", url: "/echo", body: "payload", h: "yes" },
      redirected: true,
      url: `http://127.0.0.1:${port}/echo`,
      status: 200,
      m: "GET",
    });
    const big = await run(
      ex,
      `export default async () => { await fetch("http://127.0.0.1:${port}/big"); return "read"; }`,
    );
    expect([big.status, big.reason]).toEqual(["budget_exceeded", "fetch_limit"]);
  });
});
