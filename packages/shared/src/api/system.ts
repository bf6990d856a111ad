import { z } from "zod";

/** GET /health: the process lives. */
export const HealthSchema = z.object({ status: z.literal("ok"), uptimeS: z.number().int().nonnegative() });
export type Health = z.infer<typeof HealthSchema>;

/** GET /ready, 200: every named check passed. */
export const ReadySchema = z.object({ status: z.literal("ready"), checks: z.record(z.string(), z.boolean()) });
export type Ready = z.infer<typeof ReadySchema>;

/** GET /ready, 503: a check failed (named in `message` and `checks`), or the process is draining. */
export const NotReadySchema = z.object({
  error: z.literal("service_unavailable"),
  message: z.string(),
  checks: z.record(z.string(), z.boolean()),
});
export type NotReady = z.infer<typeof NotReadySchema>;

/** GET /info. */
export const InfoSchema = z.object({
  service: z.string(),
  version: z.string(),
  mode: z.enum(["single", "cluster"]),
  nodeId: z.string(),
});
export type SystemInfo = z.infer<typeof InfoSchema>;
