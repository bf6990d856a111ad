export * from "./auth.ts";
export * from "./common.ts";
export * from "./logs.ts";
export * from "./scripts.ts";
export * from "./system.ts";
