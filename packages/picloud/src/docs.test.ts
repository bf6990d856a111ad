/**
 * The docs are kept honest: the README's configuration table lists every variable the
 * all-in-one binary's env schema accepts, docs/cluster.md's tables list every variable of
 * each cluster binary, neither lists one no schema accepts, and code comments cite only
 * docs/*.md pages and sections that exist.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { ExecutorEnvSchema } from "picloud-executor";
import { ManagerEnvSchema } from "picloud-manager";
import { OrchestratorEnvSchema } from "picloud-orchestrator";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { PicloudEnvSchema } from "./env.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const read = (file: string) => readFileSync(join(ROOT, file), "utf8");

const CLUSTER_BINARIES: Record<string, z.ZodObject> = {
  "picloud-manager": ManagerEnvSchema,
  "picloud-orchestrator": OrchestratorEnvSchema,
  "picloud-executor": ExecutorEnvSchema,
};

/**
 * The variables a markdown table names: the backticked names in its first column. A name
 * with `<NAME>` in it (`PICLOUD_BUDGET_<NAME>`) stands for every variable it matches.
 */
function tableVariables(rows: string[]): { names: Set<string>; patterns: RegExp[] } {
  const names = new Set<string>();
  const patterns: RegExp[] = [];
  for (const row of rows) {
    for (const m of (row.split("|")[1] ?? "").matchAll(/`([A-Z][A-Z0-9_]*(?:<NAME>[A-Z0-9_]*)?)`/g)) {
      const name = m[1] as string;
      if (name.includes("<NAME>")) patterns.push(new RegExp(`^${name.replace("<NAME>", "[A-Z0-9_]+")}$`));
      else names.add(name);
    }
  }
  return { names, patterns };
}

/** What the schema accepts and a table does not name, and what a table names that it does not accept. */
function compare(schema: z.ZodObject, rows: string[]): { missing: string[]; notAccepted: string[] } {
  const { names, patterns } = tableVariables(rows);
  const keys = Object.keys(schema.shape).sort();
  return {
    missing: keys.filter((k) => !names.has(k) && !patterns.some((p) => p.test(k))),
    notAccepted: [
      ...[...names].filter((n) => !keys.includes(n)),
      ...patterns.filter((p) => !keys.some((k) => p.test(k))).map(String),
    ],
  };
}

/** The body rows of each `| variable | … |` table in `text`, with the line just above it. */
function variableTables(text: string): { label: string; rows: string[] }[] {
  const lines = text.split("\n");
  const tables: { label: string; rows: string[] }[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^\|\s*variable\s*\|/.test(lines[i] ?? "")) continue;
    let j = i - 1;
    while (j >= 0 && !lines[j]?.trim()) j--;
    const rows: string[] = [];
    for (i += 2; (lines[i] ?? "").startsWith("|"); i++) rows.push(lines[i] as string);
    tables.push({ label: lines[j] ?? "", rows });
  }
  return tables;
}

describe("README configuration table", () => {
  const readme = read("README.md");
  const start = readme.indexOf("## Configuration");
  const tables = variableTables(readme.slice(start, readme.indexOf("\n## ", start + 3)));

  it("is one table listing every variable of the all-in-one binary's env schema, and only those", () => {
    expect(tables).toHaveLength(1);
    const { missing, notAccepted } = compare(PicloudEnvSchema, tables[0]?.rows ?? []);
    expect(missing, "accepted by packages/picloud/src/env.ts but not in the README").toEqual([]);
    expect(notAccepted, "in the README but not accepted by packages/picloud/src/env.ts").toEqual([]);
  });
});

describe("docs/cluster.md settings of each cluster binary", () => {
  const tables = variableTables(read("docs/cluster.md"));

  for (const [binary, schema] of Object.entries(CLUSTER_BINARIES)) {
    const mine = tables.filter((t) => t.label.trim() === `\`${binary}\`:`);

    it(`${binary}: one table, under \`${binary}\`:, listing every variable of its env schema, and only those`, () => {
      expect(mine).toHaveLength(1);
      const { missing, notAccepted } = compare(schema, mine[0]?.rows ?? []);
      expect(missing, `accepted by ${binary} but not in docs/cluster.md`).toEqual([]);
      expect(notAccepted, `in docs/cluster.md but not accepted by ${binary}`).toEqual([]);
    });
  }
});

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
const anchorOf = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    if (["node_modules", "build", ".svelte-kit", "dist"].includes(name)) continue;
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|mjs|js|svelte)$/.test(name)) out.push(path);
  }
  return out;
}

describe("code comments cite the repository's docs", () => {
  const files = [
    ...readdirSync(join(ROOT, "packages")).flatMap((p) => sourceFiles(join("packages", p, "src"))),
    ...sourceFiles("dashboard/src"),
    ...sourceFiles("dashboard/e2e"),
    ...sourceFiles("bench"),
    ...sourceFiles("tools").filter((f) => !f.includes("toolchain") && !f.includes("local")),
  ];

  it('every docs/<page>.md, docs/<page>.md#<section> or docs/<page>.md, "<Section>" cited exists', () => {
    const anchors = new Map<string, Set<string>>();
    const broken: string[] = [];
    for (const file of files) {
      for (const m of read(file).matchAll(/\bdocs\/([a-z0-9-]+\.md)(?:#([a-z0-9-]+)|, "([^"\n]+)")?/g)) {
        const page = `docs/${m[1]}`;
        if (!existsSync(join(ROOT, page))) {
          broken.push(`${file}: ${m[0]}`);
          continue;
        }
        if (!anchors.has(page)) {
          const headings = [...read(page).matchAll(/^#{1,6} (.+)$/gm)].map((h) => anchorOf(h[1] as string));
          anchors.set(page, new Set(headings));
        }
        const section = m[2] ?? (m[3] ? anchorOf(m[3]) : undefined);
        if (section && !anchors.get(page)?.has(section)) broken.push(`${file}: ${m[0]}`);
      }
    }
    expect(files.length).toBeGreaterThan(50);
    expect(broken).toEqual([]);
  });

  it("nothing cites a design file outside the repository", () => {
    const outside = files
      .concat(
        readdirSync(join(ROOT, "docs")).map((f) => join("docs", f)),
        ["README.md"],
      )
      .filter((f) => /\bDESIGN(\.md| §)/.test(read(f)))
      .map((f) => relative(ROOT, join(ROOT, f)));
    expect(outside).toEqual([]);
  });
});
