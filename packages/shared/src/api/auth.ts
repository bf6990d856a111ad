import { z } from "zod";

/** POST /api/auth/login: the admin token, exchanged for a session cookie. */
export const LoginSchema = z.object({ token: z.string().min(1).max(512) });
export type LoginInput = z.infer<typeof LoginSchema>;

/** GET /api/auth/session: who is signed in, and where scripts are served. */
export const SessionInfoSchema = z.object({
  authenticated: z.literal(true),
  via: z.enum(["token", "session"]),
  /** The separate script origin (`PICLOUD_EXECUTE_ORIGIN`); null: scripts share this origin. */
  executeOrigin: z.string().nullable(),
});
export type SessionInfo = z.infer<typeof SessionInfoSchema>;
