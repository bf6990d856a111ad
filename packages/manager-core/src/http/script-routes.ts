import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "@picloud/http";
import {
  CreateInvokeKeySchema,
  CreateScriptSchema,
  listPageOf,
  PiCloudError,
  RollbackSchema,
  ScriptListQuerySchema,
  type ScriptStats,
  UpdateScriptSchema,
  VersionParamSchema,
} from "@picloud/shared";
import type { InvokeKeys } from "../scripts/invoke-keys.ts";
import type { ScriptService } from "../scripts/script-service.ts";
import {
  ADMIN_ERRORS,
  errorAnswers,
  IdParam,
  InvokeKeyDoc,
  jsonAnswer,
  jsonBody,
  ScriptDetailDoc,
  ScriptListItemDoc,
  ScriptVersionDoc,
  WRITE_ERRORS,
} from "./schemas.ts";

/** Per-script activity for the list page; provided by the logs repository. */
export type ScriptStatsFn = (ids: string[]) => Promise<Map<string, ScriptStats>>;

const tags = ["scripts"];

/** CRUD, versions, rollback and invoke keys (docs/api.md#scripts). Mounted behind the admin guard. */
export function scriptRoutes(scripts: ScriptService, keys: InvokeKeys, stats: ScriptStatsFn): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/scripts",
      tags,
      request: { query: ScriptListQuerySchema },
      responses: {
        200: jsonAnswer(listPageOf(ScriptListItemDoc), "scripts by name"),
        ...errorAnswers(...ADMIN_ERRORS),
      },
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
      return c.json({ ...page, items }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/scripts",
      tags,
      request: jsonBody(CreateScriptSchema),
      responses: { 201: jsonAnswer(ScriptDetailDoc, "created"), ...errorAnswers(...WRITE_ERRORS, "conflict") },
    }),
    async (c) => c.json(await scripts.create(c.req.valid("json")), 201),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/scripts/{id}",
      tags,
      request: { params: IdParam },
      responses: {
        200: jsonAnswer(ScriptDetailDoc, "the script with its current source"),
        ...errorAnswers(...ADMIN_ERRORS, "not_found"),
      },
    }),
    async (c) => c.json(await scripts.get(c.req.valid("param").id), 200),
  );

  app.openapi(
    createRoute({
      method: "put",
      path: "/api/scripts/{id}",
      tags,
      request: { params: IdParam, ...jsonBody(UpdateScriptSchema) },
      responses: {
        200: jsonAnswer(ScriptDetailDoc, "updated (a new version)"),
        ...errorAnswers(...WRITE_ERRORS, "not_found", "conflict"),
      },
    }),
    async (c) => c.json(await scripts.update(c.req.valid("param").id, c.req.valid("json")), 200),
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/api/scripts/{id}",
      tags,
      request: { params: IdParam },
      responses: { 204: { description: "deleted" }, ...errorAnswers(...WRITE_ERRORS, "not_found") },
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
      responses: {
        200: jsonAnswer(listPageOf(ScriptVersionDoc), "versions, newest first"),
        ...errorAnswers(...ADMIN_ERRORS, "not_found"),
      },
    }),
    async (c) => c.json({ items: await scripts.versions(c.req.valid("param").id), nextCursor: null }, 200),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/scripts/{id}/versions/{version}",
      tags,
      request: { params: IdParam.extend({ version: VersionParamSchema }) },
      responses: {
        200: jsonAnswer(ScriptVersionDoc, "one version with its source"),
        ...errorAnswers(...ADMIN_ERRORS, "not_found"),
      },
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
      request: { params: IdParam, ...jsonBody(RollbackSchema) },
      responses: {
        200: jsonAnswer(ScriptDetailDoc, "the old version, current again as a new version"),
        ...errorAnswers(...WRITE_ERRORS, "not_found"),
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
      responses: {
        200: jsonAnswer(listPageOf(InvokeKeyDoc), "live invoke keys (values are never shown again)"),
        ...errorAnswers(...ADMIN_ERRORS, "not_found"),
      },
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
      request: { params: IdParam, ...jsonBody(CreateInvokeKeySchema) },
      responses: {
        201: jsonAnswer(InvokeKeyDoc, "the new key, shown once"),
        ...errorAnswers(...WRITE_ERRORS, "not_found"),
      },
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
      responses: { 204: { description: "revoked" }, ...errorAnswers(...WRITE_ERRORS, "not_found") },
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
