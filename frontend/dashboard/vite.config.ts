import { readFileSync } from "node:fs";
import { fileURLToPath, URL } from "node:url";
import vue from "@vitejs/plugin-vue";
import type { Plugin } from "vite";
import { defineConfig } from "vitest/config";

// The flag images (flag-icons, MIT) are redistributed with the dashboard: their licence, which
// asks for its notice to travel with every copy, is written beside them at build time.
function flagIconsNotice(): Plugin {
  return {
    name: "flag-icons-notice",
    apply: "build",
    generateBundle() {
      const source = readFileSync(fileURLToPath(new URL("./node_modules/flag-icons/LICENSE", import.meta.url)), "utf8");
      this.emitFile({ type: "asset", fileName: "assets/flag-icons-LICENSE.txt", source });
    },
  };
}

// The build lands inside the Python package, which serves it (src/frontdesk/http/web.py).
const backend = process.env.FRONTDESK_DEV_BACKEND ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [vue(), flagIconsNotice()],
  resolve: { alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) } },
  build: {
    outDir: fileURLToPath(new URL("../../src/frontdesk/web/dashboard", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    reportCompressedSize: false,
  },
  server: {
    proxy: {
      "/api": { target: backend, ws: true },
      "/files": backend,
    },
  },
  test: {
    environment: "happy-dom",
    include: ["tests/**/*.test.ts"],
  },
});
