export * from "./error-handler.ts";
export * from "./logger.ts";
export * from "./metrics.ts";
export * from "./request-context.ts";
export * from "./system-routes.ts";
export * from "./version.ts";
