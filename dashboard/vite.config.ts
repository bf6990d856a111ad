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
