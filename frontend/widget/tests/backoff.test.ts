import { describe, expect, it } from "vitest";
import { Backoff, MAX_DELAY_MS } from "../src/backoff";

describe("Backoff", () => {
  it("waits 1, 2, 4 … seconds, never more than 30", () => {
    const b = new Backoff(() => 0);
    const delays = Array.from({ length: 8 }, () => b.next());
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it("starts again from one second after a connection succeeded", () => {
    const b = new Backoff(() => 0);
    b.next();
    b.next();
    b.reset();
    expect(b.next()).toBe(1000);
  });

  it("adds jitter but keeps the cap", () => {
    const b = new Backoff(() => 200);
    expect(b.next()).toBe(1200);
    for (let i = 0; i < 40; i++) expect(b.next()).toBeLessThanOrEqual(MAX_DELAY_MS);
  });
});
