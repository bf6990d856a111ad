import adapter from "@sveltejs/adapter-static";
import { sveltekit } from "@sveltejs/kit/vite";
import { defineConfig } from "vite";

// A static single-page app: every route is rendered in the browser, and the server
// (picloud or Caddy) answers unknown paths with index.html.
const apiTarget = process.env["PICLOUD_DEV_API"] ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [
    sveltekit({
      adapter: adapter({ pages: "build", assets: "build", fallback: "index.html", strict: true }),
      // A strict policy for the SPA shell: SvelteKit hashes its inline bootstrap script into
      // `script-src`, written as a <meta> tag in index.html. The server sends the same policy
      // as a header, plus what a <meta> cannot carry (frame-ancestors): docs/security.md.
      csp: {
        mode: "hash",
        directives: {
          "default-src": ["self"],
          "script-src": ["self"],
          // Svelte and CodeMirror set style attributes and <style> elements at run time.
          "style-src": ["self", "unsafe-inline"],
          "img-src": ["self", "data:"],
          "font-src": ["self"],
          "connect-src": ["self"],
          "object-src": ["none"],
          "base-uri": ["none"],
          "form-action": ["self"],
          "worker-src": ["none"],
          "manifest-src": ["self"],
        },
      },
    }),
  ],
  // CodeMirror and its TypeScript grammar make one ~500 kB chunk, loaded only by the script pages.
  build: { chunkSizeWarningLimit: 700 },
  server: {
    proxy: {
      "/api": { target: apiTarget, changeOrigin: false },
    },
  },
});
