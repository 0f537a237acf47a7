// Drafts: one per conversation and workspace, kept in localStorage across page loads.
import { createPinia, setActivePinia } from "pinia";
import { beforeEach, describe, expect, it } from "vitest";
import { draftKey, useDrafts } from "@/stores/drafts";
import { useSession } from "@/stores/session";

function fresh(workspaceId = 1): ReturnType<typeof useDrafts> {
  setActivePinia(createPinia());
  useSession().workspaceId = workspaceId;
  return useDrafts();
}

describe("drafts", () => {
  beforeEach(() => localStorage.clear());

  it("keeps a draft per conversation", () => {
    const drafts = fresh();
    drafts.set(1, { text: "half a reply", mode: "reply" });
    drafts.set(2, { text: "a note", mode: "note" });
    expect(drafts.get(1)).toEqual({ text: "half a reply", mode: "reply" });
    expect(drafts.get(2)).toEqual({ text: "a note", mode: "note" });
    expect(drafts.get(3)).toEqual({ text: "", mode: "reply" });
  });

  it("survives a reload (a new store reads localStorage)", () => {
    fresh().set(5, { text: "still here", mode: "note" });
    expect(localStorage.getItem(draftKey(1, 5))).not.toBeNull();
    const after = fresh();
    expect(after.get(5)).toEqual({ text: "still here", mode: "note" });
    expect(after.hasDraft(5)).toBe(true);
  });

  it("is separate per workspace", () => {
    fresh(1).set(5, { text: "workspace one", mode: "reply" });
    expect(fresh(2).get(5).text).toBe("");
    expect(fresh(1).get(5).text).toBe("workspace one");
  });

  it("is removed when cleared or emptied", () => {
    const drafts = fresh();
    drafts.set(5, { text: "x", mode: "reply" });
    drafts.clear(5);
    expect(localStorage.getItem(draftKey(1, 5))).toBeNull();
    drafts.set(6, { text: "y", mode: "reply" });
    drafts.set(6, { text: "", mode: "reply" });
    expect(localStorage.getItem(draftKey(1, 6))).toBeNull();
    expect(fresh().get(6).text).toBe("");
  });

  it("ignores a corrupt stored value", () => {
    localStorage.setItem(draftKey(1, 9), "{not json");
    expect(fresh().get(9)).toEqual({ text: "", mode: "reply" });
  });
});
