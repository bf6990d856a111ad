export * from "./body.ts";
export * from "./concurrency-gate.ts";
export * from "./execute-routes.ts";
export * from "./orchestrator.ts";
export * from "./script-cache.ts";
export * from "./summaries.ts";
