import { readFileSync } from "node:fs";

/** Order matters: the prelude captures built-ins before the other parts use them. */
const PARTS = ["prelude.js", "encoding.js", "url.js", "http.js", "events.js", "subtle.js", "runtime.js"];

let cached: string | null = null;

/**
 * The in-isolate runtime as one closure body for `context.evalClosure`. Its host
 * callbacks arrive as `$0..$5`; it returns `[begin, setModule, invoke, invokeStart, takeResult, startedResult]`.
 */
export function bootstrapSource(): string {
  cached ??=
    PARTS.map((p) => readFileSync(new URL(`./sandbox/${p}`, import.meta.url), "utf8")).join("\n") +
    "\nreturn [begin, setModule, invoke, invokeStart, takeResult, startedResult];\n";
  return cached;
}
