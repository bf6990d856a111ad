import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "@picloud/http";
import {
  CreateScriptSchema,
  MAX_VERSION,
  PiCloudError,
  RollbackSchema,
  text,
  UpdateScriptSchema,
} from "@picloud/shared";
import type { InvokeKeys } from "../scripts/invoke-keys.ts";
import type { ScriptService } from "../scripts/script-service.ts";
import {
  errorResponses,
  IdParam,
  InvokeKeySchema,
  json,
  listOf,
  ScriptDetailSchema,
  ScriptListItemSchema,
  VersionSchema,
} from "./schemas.ts";

/** Per-script activity for the list page; provided by the logs repository. */
export type ScriptStatsFn = (
  ids: string[],
) => Promise<
  Map<string, { lastRun: { status: string; createdAt: string } | null; runs24h: number; errors24h: number }>
>;

const body = <T extends z.ZodType>(schema: T) => ({
  body: { content: { "application/json": { schema } }, required: true },
});
const tags = ["scripts"];

/** CRUD, versions, rollback and invoke keys (docs/api.md#scripts). Mounted behind the admin guard. */
export function scriptRoutes(scripts: ScriptService, keys: InvokeKeys, stats: ScriptStatsFn): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();

  const ListQuery = z.object({
    search: z.string().max(100).optional(),
    limit: z.coerce.number().int().min(0).max(200).default(50),
    cursor: z.string().max(200).optional(),
  });
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/scripts",
      tags,
      request: { query: ListQuery },
      responses: { 200: json(listOf(ScriptListItemSchema), "scripts by name") },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const page = await scripts.list({
        limit: q.limit,
        ...(q.search ? { search: q.search } : {}),
        ...(q.cursor ? { cursor: q.cursor } : {}),
      });
      const byId = await stats(page.items.map((s) => s.id));
      const items = page.items.map((s) => ({
        ...s,
        stats: byId.get(s.id) ?? { lastRun: null, runs24h: 0, errors24h: 0 },
      }));
      return c.json({ ...page, items } as z.infer<ReturnType<typeof listOf<typeof ScriptListItemSchema>>>, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/scripts",
      tags,
      request: body(CreateScriptSchema),
      responses: {
        201: json(ScriptDetailSchema, "created"),
        ...errorResponses,
        409: json(ScriptDetailSchema, "name taken"),
      },
    }),
    async (c) => c.json(await scripts.create(c.req.valid("json")), 201),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/scripts/{id}",
      tags,
      request: { params: IdParam },
      responses: { 200: json(ScriptDetailSchema, "the script with its current source"), ...errorResponses },
    }),
    async (c) => c.json(await scripts.get(c.req.valid("param").id), 200),
  );

  app.openapi(
    createRoute({
      method: "put",
      path: "/api/scripts/{id}",
      tags,
      request: { params: IdParam, ...body(UpdateScriptSchema) },
      responses: { 200: json(ScriptDetailSchema, "updated (a new version)"), ...errorResponses },
    }),
    async (c) => c.json(await scripts.update(c.req.valid("param").id, c.req.valid("json")), 200),
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/api/scripts/{id}",
      tags,
      request: { params: IdParam },
      responses: { 204: { description: "deleted" }, ...errorResponses },
    }),
    async (c) => {
      await scripts.delete(c.req.valid("param").id);
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/scripts/{id}/versions",
      tags,
      request: { params: IdParam },
      responses: { 200: json(listOf(VersionSchema), "versions, newest first"), ...errorResponses },
    }),
    async (c) => c.json({ items: await scripts.versions(c.req.valid("param").id), nextCursor: null }, 200),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/scripts/{id}/versions/{version}",
      tags,
      request: { params: IdParam.extend({ version: z.coerce.number().int().positive().max(MAX_VERSION) }) },
      responses: { 200: json(VersionSchema, "one version with its source"), ...errorResponses },
    }),
    async (c) => {
      const p = c.req.valid("param");
      return c.json(await scripts.version(p.id, p.version), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/scripts/{id}/rollback",
      tags,
      request: { params: IdParam, ...body(RollbackSchema) },
      responses: {
        200: json(ScriptDetailSchema, "the old version, current again as a new version"),
        ...errorResponses,
      },
    }),
    async (c) => c.json(await scripts.rollback(c.req.valid("param").id, c.req.valid("json").version), 200),
  );

  const keyScript = async (idOrName: string) => {
    const s = await scripts.repo.find(idOrName);
    if (!s) throw new PiCloudError("not_found", `no script ${JSON.stringify(idOrName)}`);
    return s;
  };
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/scripts/{id}/keys",
      tags,
      request: { params: IdParam },
      responses: { 200: json(listOf(InvokeKeySchema), "live invoke keys (values are never shown again)") },
    }),
    async (c) => {
      const s = await keyScript(c.req.valid("param").id);
      return c.json({ items: await keys.list(s.id), nextCursor: null }, 200);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/scripts/{id}/keys",
      tags,
      request: { params: IdParam, ...body(z.object({ name: text().min(1).max(100) }).strict()) },
      responses: { 201: json(InvokeKeySchema, "the new key, shown once"), ...errorResponses },
    }),
    async (c) => {
      const s = await keyScript(c.req.valid("param").id);
      return c.json(await keys.create(s.id, c.req.valid("json").name), 201);
    },
  );
  app.openapi(
    createRoute({
      method: "delete",
      path: "/api/scripts/{id}/keys/{keyId}",
      tags,
      request: { params: IdParam.extend({ keyId: z.string().uuid() }) },
      responses: { 204: { description: "revoked" }, ...errorResponses },
    }),
    async (c) => {
      const p = c.req.valid("param");
      const s = await keyScript(p.id);
      await keys.revoke(s.id, p.keyId);
      return c.body(null, 204);
    },
  );
  return app;
}
