/**
 * Walks every route of the OpenAPI document with hostile input — malformed percent-encoding,
 * NUL bytes, numbers out of every column's range, wrong types, malformed JSON — in paths,
 * queries and bodies, signed in and not: the platform answers each in the error contract,
 * never with a 500 (issue 10), and each answer is one the document describes (issue 12).
 */
import { OpenApiConformance, type OpenApiDocument, type OpenApiOperation } from "@picloud/testing/openapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from "./test-server.ts";

interface Schema {
  $ref?: string;
  properties?: Record<string, Schema>;
}

/** Raw (already percent-encoded) path segments. */
const PATH_VALUES = [
  "%ZZ",
  "%E0%A4%A",
  "%",
  "a%00b",
  "%00",
  "%C0%AF",
  "2147483648",
  "-1",
  "0",
  "99999999999999999999999",
  "1e309",
  "NaN",
  "..%2F..",
  "x".repeat(300),
  "fuzzed",
];
/** Raw query values. */
const QUERY_VALUES = [
  "%ZZ",
  "%E0%A4%A",
  "%00",
  "2147483648",
  "-1",
  "1e309",
  "NaN",
  "99999999999999999999",
  "x".repeat(5000),
];
/** Values put into every property of a JSON body, one at a time. */
const FIELD_VALUES: unknown[] = [
  "\u0000",
  "a\u0000b",
  2147483648,
  -1,
  1e308,
  0.5,
  "x".repeat(70_000),
  null,
  {},
  [],
  true,
];
/** Whole bodies, sent as they are. */
const RAW_BODIES = ['{"a":', "[]", "null", '"x"', "1e400", "\u0000", `${"[".repeat(5000)}${"]".repeat(5000)}`, "{}"];

describe("fuzz: every OpenAPI route with hostile input answers in the contract, never 500", () => {
  let s: TestServer;
  let doc: OpenApiDocument;
  let conformance: OpenApiConformance;
  const failures: string[] = [];
  let sent = 0;

  beforeAll(async () => {
    s = await startTestServer("postgres", { PICLOUD_TRUST_PROXY: "true" });
    await s.createScript("fuzzed", `export default () => new Response("ok")`);
    doc = (await (await fetch(`${s.url}/openapi.json`)).json()) as OpenApiDocument;
    conformance = new OpenApiConformance(doc);
  });
  afterAll(async () => {
    await s?.stop();
  });

  async function send(method: string, path: string, body: string | undefined, admin: boolean): Promise<void> {
    sent++;
    const headers: Record<string, string> = { "x-forwarded-for": `198.51.100.${sent % 250}` };
    if (admin) headers["authorization"] = `Bearer ${TEST_ADMIN_TOKEN}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(s.url + path, {
      method: method.toUpperCase(),
      headers,
      ...(body === undefined ? {} : { body }),
      signal: AbortSignal.timeout(10_000),
    });
    // Live streams stay open: their status is all that is needed.
    const type = res.headers.get("content-type") ?? "";
    const { text, problems } = await conformance.read(method, s.url + path, res);
    // Routes outside the document (sign-in's hostile bodies go to a documented one) are skipped.
    if (conformance.match(method, new URL(s.url + path).pathname)) failures.push(...problems);
    if (res.status >= 500) {
      failures.push(
        `${method.toUpperCase()} ${path.slice(0, 120)} ${body?.slice(0, 80) ?? ""} -> ${res.status} ${text.slice(0, 200)}`,
      );
    }
    if (res.status >= 400 && !type.includes("json")) {
      failures.push(`${method.toUpperCase()} ${path.slice(0, 120)} -> ${res.status} outside the contract (${type})`);
    }
  }

  function bodyFields(op: OpenApiOperation): string[] {
    let schema = op.requestBody?.content?.["application/json"]?.schema as Schema | undefined;
    if (schema?.$ref) schema = doc.components?.schemas?.[schema.$ref.split("/").at(-1) ?? ""] as Schema | undefined;
    return Object.keys(schema?.properties ?? {});
  }

  it("walks paths, queries and bodies", { timeout: 240_000 }, async () => {
    const routes = Object.entries(doc.paths);
    expect(routes.length).toBeGreaterThan(10);
    for (const [template, ops] of routes) {
      for (const [method, op] of Object.entries(ops)) {
        const params = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? "");
        const fill = (v: string) => template.replace(/\{\w+\}/g, v);
        const validPath = template.replace(/\{(\w+)\}/g, (_m, p: string) => (p === "version" ? "1" : "fuzzed"));
        // Paths: each hostile value in every parameter.
        for (const v of params.length ? PATH_VALUES : []) {
          for (const admin of [true, false]) await send(method, fill(v), undefined, admin);
        }
        // Queries: each hostile value in every declared query parameter, and an undeclared one.
        const queries = (op.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name);
        for (const q of [...queries, "zz"]) {
          for (const v of QUERY_VALUES) await send(method, `${validPath}?${q}=${v}`, undefined, true);
        }
        // Bodies: each hostile value in every property, and whole malformed bodies.
        if (method !== "get" && method !== "head") {
          for (const field of bodyFields(op)) {
            for (const v of FIELD_VALUES) {
              const base: Record<string, unknown> = { name: "fuzz-new", source: "export default () => 1" };
              await send(method, validPath, JSON.stringify({ ...base, [field]: v }), true);
            }
          }
          for (const raw of RAW_BODIES) await send(method, validPath, raw, true);
        }
      }
    }
    // Sign-in and the routes outside the document, with hostile bodies too.
    for (const v of FIELD_VALUES) await send("post", "/api/auth/login", JSON.stringify({ token: v }), false);
    for (const raw of RAW_BODIES) await send("post", "/api/auth/login", raw, false);
    for (const v of PATH_VALUES) await send("get", `/api/scripts/${v}/logs/stream`, undefined, true);
    console.log(`[fuzz] ${sent} requests over ${routes.length} OpenAPI paths; answers >= 500: ${failures.length}`);
    expect(failures).toEqual([]);
  });
});
