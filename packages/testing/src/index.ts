export * from "./fixtures.ts";
export * from "./logger.ts";
export * from "./postgres.ts";
export * from "./tcp-proxy.ts";
export * from "./wait.ts";
