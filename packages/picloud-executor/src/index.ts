export * from "./env.ts";
export * from "./executor.ts";
