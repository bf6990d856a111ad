/** The invocation's env: a frozen, prototype-less copy the script reads as `env` and `ctx.env`. */
import { ObjectCreate, ObjectFreeze } from "./intrinsics.ts";

let currentEnv: Readonly<Record<string, string>> = ObjectFreeze(ObjectCreate(null));

export function getEnv(): Readonly<Record<string, string>> {
  return currentEnv;
}

export function setEnv(source: Record<string, string>): void {
  const env: Record<string, string> = ObjectCreate(null);
  for (const k of Object.keys(source)) env[k] = String(source[k]);
  currentEnv = ObjectFreeze(env);
}
