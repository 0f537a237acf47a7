import { describe, expect, it } from "vitest";
import { safeStorage } from "../src/storage";

class ThrowingStorage implements Storage {
  length = 0;
  clear(): void {}
  key(): string | null {
    return null;
  }
  getItem(): string | null {
    throw new DOMException("denied", "SecurityError");
  }
  setItem(): void {
    throw new DOMException("quota", "QuotaExceededError");
  }
  removeItem(): void {}
}

describe("safeStorage", () => {
  it("uses localStorage under the inbox's prefix", () => {
    localStorage.clear();
    const store = safeStorage(() => localStorage, "frontdesk:abc:");
    store.set("token", "vt1.x");
    expect(store.persistent).toBe(true);
    expect(localStorage.getItem("frontdesk:abc:token")).toBe("vt1.x");
    expect(safeStorage(() => localStorage, "frontdesk:other:").get("token")).toBeNull();
    store.remove("token");
    expect(localStorage.getItem("frontdesk:abc:token")).toBeNull();
  });

  it("falls back to memory when reaching storage throws (sandboxed iframe)", () => {
    const store = safeStorage(() => {
      throw new DOMException("denied", "SecurityError");
    }, "p:");
    expect(store.persistent).toBe(false);
    store.set("open", "1");
    expect(store.get("open")).toBe("1");
    store.remove("open");
    expect(store.get("open")).toBeNull();
  });

  it("falls back to memory when writes throw (Safari private mode, full quota)", () => {
    const store = safeStorage(() => new ThrowingStorage(), "p:");
    expect(store.persistent).toBe(false);
    store.set("draft", "hello");
    expect(store.get("draft")).toBe("hello");
  });

  it("keeps a value in memory when a later write fails", () => {
    let full = false;
    const real = localStorage;
    real.clear();
    const flaky: Storage = Object.assign(Object.create(real) as Storage, {
      setItem: (k: string, v: string) => {
        if (full) throw new DOMException("quota", "QuotaExceededError");
        real.setItem(k, v);
      },
      getItem: (k: string) => real.getItem(k),
      removeItem: (k: string) => real.removeItem(k),
    });
    const store = safeStorage(() => flaky, "p:");
    store.set("draft", "one");
    full = true;
    store.set("draft", "two");
    expect(store.get("draft")).toBe("two");
  });
});
