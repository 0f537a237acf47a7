// @vitest-environment node
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain ES module of the build, without type declarations
import { BUDGET_GZIP_BYTES, bundle } from "../scripts/bundle.mjs";

describe("the bundle", () => {
  it("is one IIFE within the 30 KB gzipped budget", async () => {
    const { code, gzipBytes } = (await bundle()) as { code: string; gzipBytes: number };
    expect(gzipBytes).toBeLessThanOrEqual(BUDGET_GZIP_BYTES);
    expect(code.replace(/^"use strict";/, "").startsWith("(()=>{")).toBe(true);
    expect(code).not.toMatch(/\bimport\s*\(|\brequire\(/);
  }, 30_000);
});
