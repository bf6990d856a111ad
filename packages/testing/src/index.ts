export * from "./postgres.ts";
export * from "./tcp-proxy.ts";
export * from "./wait.ts";
