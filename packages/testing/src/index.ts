export * from "./postgres.ts";
export * from "./tcp-proxy.ts";
