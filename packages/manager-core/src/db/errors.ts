/** The SQLSTATE of a database error (postgres-js and PGlite, through drizzle's wrapper). */
export { sqlState } from "@picloud/shared";

export const UNIQUE_VIOLATION = "23505";
