import { ERROR_STATUS } from "@picloud/shared";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import formats from "ajv-formats";

/** The parts of an OpenAPI 3.1 document a conformance check reads. */
export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, unknown> };
}

export interface OpenApiOperation {
  parameters?: { name: string; in: string }[];
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  responses: Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }>;
}

const DOC_ID = "picloud-openapi";
const METHODS = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);

/**
 * Checks real HTTP answers against an OpenAPI 3.1 document (ajv's JSON Schema 2020-12
 * validator, which is what 3.1 schema objects are): the route and status are documented,
 * the media type is one the document names, and a JSON body validates against its schema
 * with every object closed (a field the document does not name is drift too). Error bodies
 * must also carry a code that belongs to their status (the error contract). It records
 * which statuses each operation was seen answering, for coverage checks.
 */
export class OpenApiConformance {
  readonly doc: OpenApiDocument;
  /** `"GET /api/scripts/{id}"` → statuses seen. */
  readonly seen = new Map<string, Set<number>>();
  readonly #ajv: Ajv2020;
  readonly #validators = new Map<string, ValidateFunction>();

  constructor(doc: OpenApiDocument) {
    this.doc = doc;
    this.#ajv = new Ajv2020({ strict: true, allErrors: true });
    // ajv-formats is CommonJS: its plugin is the module's `default`.
    formats.default(this.#ajv);
    // OpenAPI's own schema keywords (annotations only).
    this.#ajv.addVocabulary(["example", "discriminator", "xml", "externalDocs"]);
    this.#ajv.addSchema({ $id: DOC_ID, $defs: closeObjects(relink(doc.components?.schemas ?? {})) });
  }

  /** Every documented operation, as `"METHOD /template"`. */
  operations(): string[] {
    return Object.entries(this.doc.paths).flatMap(([template, ops]) =>
      Object.keys(ops)
        .filter((m) => METHODS.has(m))
        .map((m) => `${m.toUpperCase()} ${template}`),
    );
  }

  /** The documented operation a request lands on (literal segments win over parameters), or null. */
  match(method: string, pathname: string): { key: string; operation: OpenApiOperation } | null {
    const segments = pathname.split("/");
    let best: { key: string; operation: OpenApiOperation; literals: number } | null = null;
    for (const [template, ops] of Object.entries(this.doc.paths)) {
      const operation = ops[method.toLowerCase()];
      const parts = template.split("/");
      if (!operation || parts.length !== segments.length) continue;
      let literals = 0;
      const fits = parts.every((p, i) => {
        if (/^\{\w+\}$/.test(p)) return (segments[i] ?? "") !== "";
        literals++;
        return p === segments[i];
      });
      if (fits && (!best || literals > best.literals)) {
        best = { key: `${method.toUpperCase()} ${template}`, operation, literals };
      }
    }
    return best && { key: best.key, operation: best.operation };
  }

  /**
   * Reads an answer (an event stream is cancelled, not read) and checks it; see `check`.
   * Resolves to the body text and the problems found.
   */
  async read(method: string, url: string, res: Response): Promise<{ text: string; problems: string[] }> {
    const contentType = res.headers.get("content-type") ?? "";
    let text = "";
    if (contentType.includes("text/event-stream")) await res.body?.cancel();
    else text = await res.text();
    return { text, problems: this.check(method, url, { status: res.status, contentType, text }) };
  }

  /** Checks one answer. Returns the problems found, each naming the request; empty when it conforms. */
  check(method: string, url: string, answer: { status: number; contentType: string; text: string }): string[] {
    const { status, text } = answer;
    const pathname = new URL(url).pathname;
    const label = `${method.toUpperCase()} ${pathname} -> ${status}`;
    const type = answer.contentType.split(";")[0]?.trim().toLowerCase() ?? "";
    const found = this.match(method, pathname);
    if (!found) return [`${label}: no such operation in the document`];
    const statuses = this.seen.get(found.key) ?? new Set<number>();
    statuses.add(status);
    this.seen.set(found.key, statuses);
    const documented = found.operation.responses[String(status)] ?? found.operation.responses["default"];
    if (!documented) return [`${label}: status not documented for ${found.key}`];
    if (!documented.content) {
      return status === 204 && text !== "" ? [`${label}: a 204 with a body`] : [];
    }
    const media = documented.content[type];
    if (!media)
      return [`${label}: content-type ${type || "(none)"} not documented (${Object.keys(documented.content)})`];
    if (type !== "application/json") return [];
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return [`${label}: not JSON: ${text.slice(0, 120)}`];
    }
    const problems: string[] = [];
    const validate = this.#validator(found.key, status, media.schema);
    if (!validate(body)) {
      const why = (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}`).join("; ");
      problems.push(`${label}: body does not match the document: ${why}; body ${text.slice(0, 300)}`);
    }
    if (status >= 400 && isErrorBody(body) && body.error in ERROR_STATUS) {
      const expected = ERROR_STATUS[body.error as keyof typeof ERROR_STATUS];
      if (expected !== status) problems.push(`${label}: error code ${body.error} belongs to status ${expected}`);
    }
    return problems;
  }

  #validator(key: string, status: number, schema: unknown): ValidateFunction {
    const id = `${key} ${status}`;
    let v = this.#validators.get(id);
    if (!v) {
      v = this.#ajv.compile(closeObjects(relink(schema ?? {})) as object);
      this.#validators.set(id, v);
    }
    return v;
  }
}

function isErrorBody(v: unknown): v is { error: string } {
  return typeof v === "object" && v !== null && typeof (v as { error?: unknown }).error === "string";
}

/** Points `#/components/schemas/X` references at the schemas registered under `DOC_ID`. */
function relink<T>(schema: T): T {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', `"${DOC_ID}#/$defs/`)) as T;
}

/**
 * Objects with `properties` and no `additionalProperties` get `additionalProperties: false`
 * (not the members of an `allOf`, which see only part of the object).
 */
function closeObjects<T>(schema: T, inAllOf = false): T {
  if (Array.isArray(schema)) return schema.map((s) => closeObjects(s, inAllOf)) as T;
  if (typeof schema !== "object" || schema === null) return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) out[k] = k === "allOf" ? closeObjects(v, true) : closeObjects(v);
  if ("properties" in out && !("additionalProperties" in out) && !inAllOf) out["additionalProperties"] = false;
  return out as T;
}
