export * from "./env.ts";
export * from "./orchestrator.ts";
