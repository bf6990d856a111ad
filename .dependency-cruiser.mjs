/**
 * The dependency direction of docs/design.md ("Packages and dependency direction"), checked by
 * dependency-cruiser in `npm test` (`pnpm run deps`). Package manifests (every imported package
 * declared, every declared one imported) are knip's job (knip.json).
 */
const CORES = "shared|http|log-pipeline|executor-core|manager-core|orchestrator-core|testing";
const notTest = "\\.test\\.ts$|/test-support\\.ts$";

export default {
  forbidden: [
    {
      name: "core-imports-a-binary",
      comment: "A core (or test support) never imports a binary: binaries are built from cores.",
      severity: "error",
      from: { path: `^packages/(${CORES})/` },
      to: { path: "^packages/picloud(-manager|-orchestrator|-executor)?/" },
    },
    {
      name: "orchestrator-reaches-manager-core",
      comment:
        "The orchestrator side (orchestrator-core, picloud-orchestrator) never loads manager-core or a database driver: worker nodes reach durable state through the cluster protocol only.",
      severity: "error",
      from: { path: "^packages/(orchestrator-core|picloud-orchestrator)/", pathNot: notTest },
      to: {
        path: "^packages/manager-core/|node_modules/.*/(postgres|drizzle-orm|@electric-sql)/",
        reachable: true,
      },
    },
    {
      name: "shared-is-the-leaf",
      comment: "shared holds the contracts every package imports: it imports no other workspace package.",
      severity: "error",
      from: { path: "^packages/shared/" },
      to: { path: "^packages/(?!shared/)" },
    },
    {
      name: "leaf-cores",
      comment: "http, log-pipeline and executor-core build on shared only.",
      severity: "error",
      from: { path: "^packages/(http|log-pipeline|executor-core)/", pathNot: notTest },
      to: { path: "^packages/(?!shared/|http/|log-pipeline/|executor-core/)" },
    },
    {
      name: "cores-stay-apart",
      comment:
        "manager-core does not import executor-core or orchestrator-core (the compile step is injected); orchestrator-core does not import manager-core or executor-core (it runs any Executor).",
      severity: "error",
      from: { path: "^packages/(manager-core|orchestrator-core)/", pathNot: notTest },
      to: { path: "^packages/(executor-core|orchestrator-core|manager-core)/", pathNot: "^packages/$1/" },
    },
    {
      name: "no-relative-import-across-packages",
      comment: "Another package is imported by its name (and so declared in package.json), never by a relative path.",
      severity: "error",
      from: { path: "^(packages/[^/]+|dashboard)/" },
      to: { dependencyTypes: ["local"], path: "^(packages/[^/]+|dashboard)/", pathNot: "^$1/" },
    },
    {
      name: "dashboard-reads-only-shared",
      comment: "The dashboard is a static SPA: of the workspace it imports the shared contracts only.",
      severity: "error",
      from: { path: "^dashboard/src/" },
      to: { path: "^packages/(?!shared/)" },
    },
    {
      name: "not-to-unresolvable",
      comment: "Every import resolves (SvelteKit's `$app/*` modules exist only in its build).",
      severity: "error",
      from: {},
      to: { couldNotResolve: true, pathNot: "^\\$app/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)(node_modules|build|\\.svelte-kit|toolchain)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".js", ".mjs", ".cjs", ".json", ".d.ts"],
    },
  },
};
