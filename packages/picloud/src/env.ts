import { type EnvSource, envFragments as fragment, parseEnv, withDataDir } from "@picloud/shared";
import { z } from "zod";

/**
 * Configuration of the all-in-one `picloud` binary. Parsed once at start-up; a bad value
 * stops it with one line naming the variable (see `parseEnv`).
 */
export const PicloudEnvSchema = z.object({
  ...fragment.service({ port: 8787 }),
  ...fragment.dataDir("./.picloud/data"),
  /** Unset: the embedded database (PGlite) in the data directory. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL; leave it unset for the embedded database")
    .optional(),
  ...fragment.controlPlane(),
  ...fragment.invocation(),
  ...fragment.sandbox(),
  /** The built dashboard (default `dashboard/build`). */
  PICLOUD_DASHBOARD_DIR: z.string().optional(),
  ...fragment.executeOrigin(),
  ...fragment.budgets(),
});

export type PicloudEnv = z.infer<typeof PicloudEnvSchema>;

/** Reads the env (a bad variable throws `EnvError`), with the data directory made absolute. */
export const loadEnv = (source: EnvSource = process.env) => withDataDir(parseEnv(PicloudEnvSchema, source));
