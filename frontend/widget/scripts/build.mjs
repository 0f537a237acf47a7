// Builds src/frontdesk/web/widget/widget.js (served as /widget.js) and fails over the size budget.
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { BUDGET_GZIP_BYTES, bundle } from "./bundle.mjs";

const outDir = fileURLToPath(new URL("../../../src/frontdesk/web/widget/", import.meta.url));
const { code, gzipBytes } = await bundle();
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(`widget.js: ${kb(Buffer.byteLength(code))}, ${kb(gzipBytes)} gzipped (budget ${kb(BUDGET_GZIP_BYTES)})`);
if (gzipBytes > BUDGET_GZIP_BYTES) {
  console.error("widget.js is over its size budget: see docs/decisions/0011-widget-bundle.md");
  process.exit(1);
}
mkdirSync(outDir, { recursive: true });
writeFileSync(`${outDir}widget.js`, code);
