/** Starting points for a new script (docs/scripts.md: one ES module with a default export). */

export type Language = "typescript" | "javascript";

export const TEMPLATES: Record<Language, { label: string; source: string }> = {
  typescript: {
    label: "TypeScript",
    source: `// Runs on every request to this script's endpoint.
// Available: Request, Response, fetch, URL, crypto, env, and log.debug/info/warn/error.
interface Greeting {
  hello: string;
  at: string;
}

export default async function (req: Request): Promise<Response> {
  const url = new URL(req.url);
  const name = url.searchParams.get("name") ?? "world";
  log.info("greeting", { name });
  const body: Greeting = { hello: name, at: new Date().toISOString() };
  return Response.json(body);
}
`,
  },
  javascript: {
    label: "JavaScript",
    source: `// Runs on every request to this script's endpoint.
// Available: Request, Response, fetch, URL, crypto, env, and log.debug/info/warn/error.
export default async function (req) {
  const url = new URL(req.url);
  const name = url.searchParams.get("name") ?? "world";
  log.info("greeting", { name });
  return Response.json({ hello: name, at: new Date().toISOString() });
}
`,
  },
};

/** Turns free text into a valid script name (a lowercase slug). */
export function slugify(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^-+/, "")
    .slice(0, 63);
}

export const SCRIPT_NAME_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
