/**
 * The deployment files are kept honest without a Docker engine: the Caddyfiles are
 * validated by the real `caddy` (see `testCaddy` for where it comes from), and each compose service's command, environment, ports and
 * health check are checked against the binaries' real env schemas.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { testCaddy } from "@picloud/testing";
import { ExecutorEnvSchema } from "picloud-executor";
import { ManagerEnvSchema } from "picloud-manager";
import { OrchestratorEnvSchema } from "picloud-orchestrator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { z } from "zod";
import { PicloudEnvSchema } from "./env.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const CADDYFILES = ["caddy/Caddyfile", "caddy/Caddyfile.cluster", "caddy/Caddyfile.script-origin"];

const BINARIES: Record<string, z.ZodObject> = {
  "packages/picloud/src/bin.ts": PicloudEnvSchema,
  "packages/picloud-manager/src/bin.ts": ManagerEnvSchema,
  "packages/picloud-orchestrator/src/bin.ts": OrchestratorEnvSchema,
  "packages/picloud-executor/src/bin.ts": ExecutorEnvSchema,
};

/** What an operator exports before `docker compose up` (the files refuse to start without them). */
const OPERATOR_ENV: Record<string, string> = {
  PICLOUD_ADMIN_TOKEN: "operator-admin-token-0123456789",
  PICLOUD_CLUSTER_TOKEN: "operator-cluster-token-0123456789abcdefghijkl",
};

let caddyBin = "";
/** Caddy's HOME for this run: a Caddyfile with a host name provisions a local CA there. */
let caddyHome = "";

function caddy(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(caddyBin, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      HOME: caddyHome,
      XDG_DATA_HOME: caddyHome,
      XDG_CONFIG_HOME: caddyHome,
      ...env,
    },
    encoding: "utf8",
  });
  if (r.error) throw r.error;
  return r;
}

describe("Caddyfiles", () => {
  beforeAll(async () => {
    caddyBin = await testCaddy();
    caddyHome = mkdtempSync(join(tmpdir(), "picloud-caddy-test-"));
  });
  afterAll(() => rmSync(caddyHome, { recursive: true, force: true }));

  it.each(CADDYFILES)("%s passes `caddy validate`", (file) => {
    const r = caddy(["validate", "--adapter", "caddyfile", "--config", file]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toContain("Valid configuration");
  });

  it("the cluster file balances /api/execute over every orchestrator with active and passive health checks", () => {
    const r = caddy(["adapt", "--adapter", "caddyfile", "--config", "caddy/Caddyfile.cluster"], {
      PICLOUD_ORCHESTRATORS: "10.0.0.11:8788 10.0.0.12:8788",
      PICLOUD_MANAGER: "10.0.0.5:8790",
    });
    expect(r.status, r.stderr).toBe(0);
    const json = r.stdout;
    const config = JSON.parse(json) as Record<string, unknown>;
    const text = JSON.stringify(config);
    expect(text).toContain('"/api/execute/*"');
    expect(text).toContain('{"dial":"10.0.0.11:8788"},{"dial":"10.0.0.12:8788"}');
    expect(text).toContain('"uri":"/ready"');
    expect(text).toMatch(/"passive":\{"fail_duration":\d+,"max_fails":1\}/);
    expect(text).toContain('"try_duration"');
    expect(text).toContain('{"dial":"10.0.0.5:8790"}');
    expect(text).toContain('"try_files":["{http.request.uri.path}","/index.html"]');
    expect(text).toMatch(/"max_size":\d+/);
    expect(text).not.toContain("/internal/cluster");
  });

  it("the single-node file sends the API to picloud and serves the dashboard with an SPA fallback", () => {
    const r = caddy(["adapt", "--adapter", "caddyfile", "--config", "caddy/Caddyfile"], {
      PICLOUD_UPSTREAM: "picloud:8787",
    });
    expect(r.status, r.stderr).toBe(0);
    const text = r.stdout;
    expect(text).toContain('{"dial":"picloud:8787"}');
    expect(text).toContain('"try_files":["{http.request.uri.path}","/index.html"]');
    expect(text).toMatch(/"max_size":\d+/);
    expect(text).toContain("frame-ancestors 'none'");
  });

  it("the script-origin file serves only invocations on the script host, and the dashboard elsewhere", () => {
    const r = caddy(["adapt", "--adapter", "caddyfile", "--config", "caddy/Caddyfile.script-origin"], {
      PICLOUD_SITE_ADDRESS: "picloud.example.com",
      PICLOUD_EXECUTE_ADDRESS: "run.example.com",
      PICLOUD_UPSTREAM: "picloud:8787",
    });
    expect(r.status, r.stderr).toBe(0);
    const routes = (JSON.parse(r.stdout) as { apps: { http: { servers: Record<string, { routes: Route[] }> } } }).apps
      .http.servers;
    const all = Object.values(routes).flatMap((s) => s.routes);
    const site = (host: string) => JSON.stringify(all.find((rt) => rt.match?.some((m) => m.host?.includes(host))));
    const run = site("run.example.com");
    expect(run).toContain('"/api/execute/*"');
    expect(run).toContain('{"dial":"picloud:8787"}');
    expect(run).not.toContain("file_server");
    expect(run).toContain('"status_code":404');
    const platform = site("picloud.example.com");
    expect(platform).toContain("file_server");
    expect(platform).toContain("frame-ancestors 'none'");
  });
});

interface Route {
  match?: { host?: string[] }[];
}

/** Compose interpolation: `${VAR}`, `${VAR:-default}`, `${VAR:?message}` (required). */
function interpolate(value: string, env: Record<string, string>, where: string): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}/g, (_m, name: string, op?: string, arg?: string) => {
    const v = env[name];
    if (v !== undefined && v !== "") return v;
    if (op === "-") return arg ?? "";
    if (op === "?") throw new Error(`${where}: ${name} is required (${arg})`);
    return "";
  });
}

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string; target?: string };
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  expose?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}

function load(file: string): Record<string, Service> {
  const doc = parse(readFileSync(join(ROOT, file), "utf8")) as { services: Record<string, Service> };
  return doc.services;
}

function envOf(s: Service, where: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(s.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), OPERATOR_ENV, `${where} ${k}`)]),
  );
}

/** `ENV` of the Dockerfile's runtime stage (every binary sees them). */
function dockerfileRuntimeEnv(): Record<string, string> {
  const text = readFileSync(join(ROOT, "docker/Dockerfile"), "utf8");
  const runtime = text.slice(text.indexOf("AS runtime"));
  const out: Record<string, string> = {};
  for (const m of runtime.matchAll(/^ENV ((?:.*\\\n)*.*)$/gm)) {
    for (const pair of (m[1] ?? "").replace(/\\\n/g, " ").split(/\s+/).filter(Boolean)) {
      const [k, v] = pair.split("=");
      if (k && v !== undefined) out[k] = v;
    }
  }
  return out;
}

function hostPort(s: string): { host: string; port: number } {
  const m = /^(?:[a-z]+:\/\/)?([^:/\s]+):(\d+)/.exec(s);
  if (!m) throw new Error(`no host:port in ${s}`);
  return { host: m[1] as string, port: Number(m[2]) };
}

const isPicloudImage = (s: Service) => (s.image ?? "").startsWith("picloud:") || (s.build && !s.build.target);
const isCaddy = (s: Service) => s.build?.target === "caddy" || (s.image ?? "").startsWith("picloud-caddy");

describe("docker/Dockerfile", () => {
  it("copies every workspace package's manifest before `pnpm install --frozen-lockfile`", () => {
    const text = readFileSync(join(ROOT, "docker/Dockerfile"), "utf8");
    const deps = text.slice(text.indexOf("AS deps"), text.indexOf("RUN pnpm install --frozen-lockfile"));
    const manifests = [
      ...readdirSync(join(ROOT, "packages"))
        .filter((d) => existsSync(join(ROOT, "packages", d, "package.json")))
        .map((d) => `packages/${d}/package.json`),
      "dashboard/package.json",
    ];
    for (const m of manifests) expect(deps, m).toContain(`COPY ${m} `);
    for (const f of ["package.json", "pnpm-lock.yaml", "pnpm-workspace.yaml", ".npmrc"]) expect(deps).toContain(f);
  });
});

describe.each(["docker/compose.single.yml", "docker/compose.cluster.yml"])("%s", (file) => {
  const services = load(file);
  const runtimeEnv = dockerfileRuntimeEnv();
  const binOf = (s: Service) => s.command?.[0] ?? "packages/picloud/src/bin.ts";

  it("every service has a health check, and builds point at the real Dockerfile and its targets", () => {
    const dockerfile = readFileSync(join(ROOT, "docker/Dockerfile"), "utf8");
    for (const [name, s] of Object.entries(services)) {
      expect(s.healthcheck?.test?.length, `${name} health check`).toBeGreaterThan(0);
      if (s.build) {
        expect(existsSync(join(ROOT, "docker", s.build.context, s.build.dockerfile)), name).toBe(true);
        if (s.build.target) expect(dockerfile, name).toContain(`AS ${s.build.target}`);
      }
    }
    expect(dockerfile).toMatch(/^FROM \$\{NODE_IMAGE\} AS runtime$/m);
    expect(dockerfile).toContain("ARG NODE_IMAGE=node:24-bookworm-slim");
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toContain("pnpm install --frozen-lockfile");
    expect(dockerfile).toMatch(/^HEALTHCHECK /m);
  });

  it("each PiCloud service runs a real binary with an environment its env schema accepts, ports matching", () => {
    const picloud = Object.entries(services).filter(([, s]) => isPicloudImage(s));
    expect(picloud.length).toBeGreaterThan(0);
    for (const [name, s] of picloud) {
      const bin = binOf(s);
      const schema = BINARIES[bin];
      expect(schema, `${name}: ${bin} is not one of the binaries`).toBeDefined();
      expect(existsSync(join(ROOT, bin)), `${name}: ${bin} exists`).toBe(true);
      const env = envOf(s, `${file} ${name}`);
      const known = new Set(Object.keys((schema as z.ZodObject).shape));
      for (const k of Object.keys({ ...runtimeEnv, ...env }).filter(
        (k) => k.startsWith("PICLOUD_") || k === "PORT" || k === "HOST",
      ))
        expect(known.has(k), `${name}: ${k} is not a setting of ${bin}`).toBe(true);
      const parsed = (schema as z.ZodObject).safeParse({ ...runtimeEnv, ...env });
      expect(parsed.success, `${name}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
      const port = String((parsed.data as { PORT: number }).PORT);
      for (const p of [...(s.expose ?? []), ...(s.ports ?? [])])
        expect(String(p).split(":").at(-1), `${name} port`).toBe(port);
      expect(s.healthcheck?.test.join(" "), `${name} health check port`).toContain(`127.0.0.1:${port}/`);
    }
  });

  it("references between services line up (database, manager, executors, Caddy upstreams)", () => {
    const port = (name: string) => {
      const s = services[name];
      if (!s) throw new Error(`no service ${name}`);
      return Number(envOf(s, name)["PORT"]);
    };
    for (const [name, s] of Object.entries(services)) {
      const env = envOf(s, name);
      if (env["DATABASE_URL"]) {
        const { host, port: p } = hostPort(env["DATABASE_URL"].replace(/\/\/[^@]*@/, "//"));
        expect(services[host]?.image, `${name}: database host`).toMatch(/^postgres:/);
        expect(p).toBe(5432);
      }
      if (env["PICLOUD_MANAGER_URL"]) {
        const { host, port: p } = hostPort(env["PICLOUD_MANAGER_URL"]);
        expect(binOf(services[host] ?? {}), `${name}: manager`).toBe("packages/picloud-manager/src/bin.ts");
        expect(p).toBe(port(host));
      }
      if (env["PICLOUD_EXECUTOR_ADDRESS"]) {
        const addr = env["PICLOUD_EXECUTOR_ADDRESS"];
        const executors = Object.entries(services).filter(
          ([, e]) =>
            binOf(e) === "packages/picloud-executor/src/bin.ts" && envOf(e, "")["PICLOUD_EXECUTOR_LISTEN"] === addr,
        );
        // A unix socket is shared through a volume both mount; each orchestrator has its own executor.
        const mine = executors.filter(([, e]) =>
          (e.volumes ?? []).some((v) => (s.volumes ?? []).includes(v) && addr.startsWith(`${v.split(":")[1]}/`)),
        );
        expect(mine.length, `${name}: its executor`).toBe(1);
      }
    }
    for (const [name, s] of Object.entries(services).filter(([, s]) => isCaddy(s))) {
      const config = s.command?.[3] ?? "/etc/caddy/Caddyfile";
      const caddyfile = readFileSync(join(ROOT, "caddy", config.split("/").at(-1) as string), "utf8");
      const placeholders = new Set([...caddyfile.matchAll(/\{\$([A-Z0-9_]+)/g)].map((m) => m[1]));
      const env = envOf(s, name);
      for (const k of Object.keys(env))
        expect(placeholders.has(k), `${name}: ${k} is not used by ${config}`).toBe(true);
      for (const k of ["PICLOUD_UPSTREAM", "PICLOUD_MANAGER", "PICLOUD_ORCHESTRATORS"]) {
        if (!env[k]) continue;
        for (const upstream of env[k].split(/\s+/)) {
          const { host, port: p } = hostPort(upstream);
          expect(p, `${name}: ${k} ${upstream}`).toBe(port(host));
        }
      }
      const site = env["PICLOUD_SITE_ADDRESS"] ?? "";
      for (const p of s.ports ?? []) expect(`:${String(p).split(":").at(-1)}`, `${name} port`).toBe(site);
      expect(s.healthcheck?.test.join(" ")).toContain(`127.0.0.1${site}/health`);
    }
  });

  if (file.includes("cluster")) {
    it("is one manager and two orchestrator/executor pairs", () => {
      const bins = Object.values(services).map(binOf);
      const count = (b: string) => bins.filter((x) => x === `packages/${b}/src/bin.ts`).length;
      expect([count("picloud-manager"), count("picloud-orchestrator"), count("picloud-executor")]).toEqual([1, 2, 2]);
      const caddyEnv = envOf(Object.values(services).find(isCaddy) ?? {}, "caddy");
      expect(caddyEnv["PICLOUD_ORCHESTRATORS"]?.split(/\s+/)).toHaveLength(2);
    });
  }
});
