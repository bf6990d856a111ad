export * from "./env.ts";
export * from "./manager.ts";
