export * from "./db/database.ts";
export * as schema from "./db/schema.ts";
