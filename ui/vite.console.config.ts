/// <reference types="vitest/config" />
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// The office console: a second build of the same toolchain, served by fieldbook-server at
// /console/ (it embeds ui/dist-console). Its sources live in src/console/; its Vitest tests run
// with the desktop's config (`npm test`), which includes src/**.
export default defineConfig({
  plugins: [svelte({ configFile: fileURLToPath(new URL("./svelte.config.js", import.meta.url)) })],
  root: fileURLToPath(new URL("./console", import.meta.url)),
  base: "/console/",
  clearScreen: false,
  server: {
    port: 5174,
    strictPort: true,
    fs: { allow: [fileURLToPath(new URL(".", import.meta.url))] },
    // `npm run dev -- --config vite.console.config.ts` against a local fieldbook-server.
    proxy: { "/console/api": process.env.FIELDBOOK_SERVER ?? "http://127.0.0.1:8780" },
  },
  build: {
    outDir: fileURLToPath(new URL("./dist-console", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    chunkSizeWarningLimit: 600,
  },
});
