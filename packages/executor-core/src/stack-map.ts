import { SourceMap } from "node:module";

const cache = new Map<string, SourceMap | null>();

function mapFor(code: string): SourceMap | null {
  const hit = cache.get(code);
  if (hit !== undefined) return hit;
  let map: SourceMap | null = null;
  const m = /\/\/# sourceMappingURL=data:application\/json;(?:charset=utf-8;)?base64,([A-Za-z0-9+/=]+)\s*$/.exec(code);
  if (m?.[1]) {
    try {
      map = new SourceMap(JSON.parse(Buffer.from(m[1], "base64").toString("utf8")));
    } catch {
      map = null;
    }
  }
  if (cache.size > 500) cache.clear();
  cache.set(code, map);
  return map;
}

/**
 * Rewrites `filename:line:col` positions in a stack to the script's original source
 * (the TypeScript the user saved), using the inline source map compileScript appends.
 */
export function remapStack(raw: string | null, code: string, filename: string): string | null {
  if (raw === null) return null;
  // Only frames in the user's script are kept: the sandbox runtime's are noise, and the
  // host's (isolated-vm appends them to errors it rethrows) would leak host paths.
  const stack = raw
    .split("\n")
    .filter((l) => !/^\s+at /.test(l) || l.includes(filename))
    .join("\n");
  const map = mapFor(code);
  if (!map) return stack;
  const esc = filename.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return stack.replace(new RegExp(`${esc}:(\\d+):(\\d+)`, "g"), (all, l: string, c: string) => {
    const e = map.findEntry(Number(l) - 1, Number(c) - 1) as { originalLine?: number; originalColumn?: number };
    if (e.originalLine === undefined || e.originalColumn === undefined) return all;
    return `${filename}:${e.originalLine + 1}:${e.originalColumn + 1}`;
  });
}
