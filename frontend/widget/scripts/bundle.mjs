// Bundles src/main.ts into one IIFE and measures it; used by the build and by the size test.
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

export const BUDGET_GZIP_BYTES = 30 * 1024;
export const ENTRY = fileURLToPath(new URL("../src/main.ts", import.meta.url));

/** Returns the bundle's text and its gzipped size in bytes. */
export async function bundle() {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    format: "iife",
    target: "es2019",
    minify: true,
    legalComments: "none",
    charset: "utf8",
    write: false,
    logLevel: "silent",
  });
  const code = result.outputFiles[0].text;
  return { code, gzipBytes: gzipSync(Buffer.from(code), { level: 9 }).length };
}
