export * from "./api.ts";
export * from "./budgets.ts";
export * from "./env.ts";
export * from "./errors.ts";
export * from "./execution.ts";
export * from "./executor.ts";
export * from "./ids.ts";
export * from "./script.ts";
