import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./packages/manager-core/src/db/schema.ts",
  out: "./migrations",
});
