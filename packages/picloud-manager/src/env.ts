import { type EnvSource, envInt, envFragments as fragment, parseEnv, withDataDir } from "@picloud/shared";
import { z } from "zod";

/**
 * Configuration of `picloud-manager`, the control plane of a cluster: the only process
 * that talks to PostgreSQL. Parsed once at start-up; a bad value stops it with one line
 * naming the variable.
 */
export const ManagerEnvSchema = z.object({
  ...fragment.service({ port: 8790 }),
  ...fragment.dataDir("./.picloud/manager"),
  DATABASE_URL: z
    .string({ message: "is required: cluster mode runs on PostgreSQL (postgres://…)" })
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL (cluster mode has no embedded database)"),
  /** The pool's size (LISTEN/NOTIFY takes two more connections). */
  PICLOUD_DB_MAX_CONNECTIONS: envInt({ min: 2, max: 1000 }).default(10),
  ...fragment.clusterToken(),
  ...fragment.controlPlane(),
  ...fragment.executeOrigin(),
  // Ceilings are checked when a script is saved (defaults are accepted, as on the other binaries).
  ...fragment.budgets(),
});

export type ManagerEnv = z.infer<typeof ManagerEnvSchema>;

/** Reads the env (a bad variable throws `EnvError`), with the data directory made absolute. */
export const loadManagerEnv = (source: EnvSource = process.env) => withDataDir(parseEnv(ManagerEnvSchema, source));
