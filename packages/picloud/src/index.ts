export * from "./app.ts";
export * from "./env.ts";
export * from "./services.ts";
export * from "./start.ts";
