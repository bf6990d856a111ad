import { describe, expect, it } from "vitest";
import { z } from "zod";
import { DEFAULT_BUDGETS } from "./budgets.ts";
import { budgetEnvShape, budgetsFromEnv, EnvError, envInt, parseEnv } from "./env.ts";

const Schema = z.object({
  PORT: envInt({ min: 1, max: 65535 }).default(8787),
  PICLOUD_ADMIN_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  ...budgetEnvShape(),
});

describe("parseEnv", () => {
  it("applies defaults and reads numbers", () => {
    expect(parseEnv(Schema, {}).env.PORT).toBe(8787);
    expect(parseEnv(Schema, { PORT: "9000" }).env.PORT).toBe(9000);
  });

  it("names the variable and what is wrong, one line each, without echoing secrets", () => {
    let caught: unknown;
    try {
      parseEnv(Schema, { PORT: "eighty", PICLOUD_ADMIN_TOKEN: "short-secret" });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(EnvError);
    const problems = (caught as EnvError).problems;
    expect(problems).toHaveLength(2);
    expect(problems.find((p) => p.startsWith("PORT:"))).toMatch(/whole number.*"eighty"/);
    const tokenLine = problems.find((p) => p.startsWith("PICLOUD_ADMIN_TOKEN:"));
    expect(tokenLine).toMatch(/at least 16/);
    expect(tokenLine).not.toContain("short-secret");
  });

  it("warns about unknown PICLOUD_ variables and ignores empty ones", () => {
    const { warnings, env } = parseEnv(Schema, { PICLOUD_ADMNI_TOKEN: "x", PORT: "", OTHER: "1" });
    expect(env.PORT).toBe(8787);
    expect(warnings).toEqual(["PICLOUD_ADMNI_TOKEN is not a PiCloud setting and is ignored (a typo?)"]);
  });

  it("reads budgets and refuses a default above its ceiling", () => {
    const ok = budgetsFromEnv(parseEnv(Schema, { PICLOUD_BUDGET_CPU_TIME_MS: "50" }).env);
    expect(ok.defaults.cpuTimeMs).toBe(50);
    expect(ok.defaults.wallTimeMs).toBe(DEFAULT_BUDGETS.wallTimeMs);
    const env = parseEnv(Schema, { PICLOUD_BUDGET_MEMORY_MB: "300", PICLOUD_CEILING_MEMORY_MB: "128" }).env;
    expect(() => budgetsFromEnv(env)).toThrow(/PICLOUD_BUDGET_MEMORY_MB: 300 is above its ceiling 128/);
    // A lowered ceiling alone pulls the default down with it.
    const capped = budgetsFromEnv(parseEnv(Schema, { PICLOUD_CEILING_MEMORY_MB: "32" }).env);
    expect(capped.defaults.memoryMb).toBe(32);
  });
});
