// Half-written replies, one per conversation, kept in localStorage so they survive switching
// conversations and reloading the page. The key names the workspace and the conversation.
import { defineStore } from "pinia";
import { reactive } from "vue";
import { useSession } from "./session";

export type ComposerMode = "reply" | "note";

export interface Draft {
  text: string;
  mode: ComposerMode;
}

const PREFIX = "frontdesk.draft.";

export function draftKey(workspaceId: number | null, conversationId: number): string {
  return `${PREFIX}${workspaceId ?? 0}.${conversationId}`;
}

function read(key: string): Draft | null {
  try {
    const raw = localStorage.getItem(key);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as Partial<Draft>;
    if (typeof parsed.text !== "string") return null;
    return { text: parsed.text, mode: parsed.mode === "note" ? "note" : "reply" };
  } catch {
    return null;
  }
}

export const useDrafts = defineStore("drafts", () => {
  const cache = reactive(new Map<string, Draft>());

  function key(conversationId: number): string {
    return draftKey(useSession().workspaceId, conversationId);
  }

  /** The conversation's draft; an empty reply when there is none. */
  function get(conversationId: number): Draft {
    const k = key(conversationId);
    const cached = cache.get(k);
    if (cached) return { ...cached };
    const stored = read(k);
    if (stored) cache.set(k, stored);
    return stored ? { ...stored } : { text: "", mode: "reply" };
  }

  /** Saves a draft; an empty reply-mode draft is the same as none and is removed. */
  function set(conversationId: number, draft: Draft): void {
    const k = key(conversationId);
    if (!draft.text && draft.mode === "reply") {
      clear(conversationId);
      return;
    }
    cache.set(k, { text: draft.text, mode: draft.mode });
    try {
      localStorage.setItem(k, JSON.stringify({ text: draft.text, mode: draft.mode }));
    } catch {
      // Storage full or denied: the draft still lives for this tab.
    }
  }

  function clear(conversationId: number): void {
    const k = key(conversationId);
    cache.delete(k);
    try {
      localStorage.removeItem(k);
    } catch {
      // ignore
    }
  }

  function hasDraft(conversationId: number): boolean {
    return get(conversationId).text.trim() !== "";
  }

  return { get, set, clear, hasDraft };
});
