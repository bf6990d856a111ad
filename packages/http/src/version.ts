import { readFileSync } from "node:fs";

/** The PiCloud version, from the workspace root package.json (one version for all parts). */
export const PICLOUD_VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as {
      version?: string;
    };
    return pkg.version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
})();
