// Which contacts are blocked (W4), as far as this tab knows: learnt from the contacts it loaded,
// from contact.updated / contact.blocked events, and from the agent's own block and unblock.
// The conversation header reads it for its "Blocked" badge.
import { defineStore } from "pinia";
import { ref, watch } from "vue";
import { send } from "@/api/client";
import type { Contact, StreamEvent } from "@/api/types";
import { useSession } from "./session";

type Blockable = Contact & { blocked_at?: string | null };

export const useBlocks = defineStore("blocks", () => {
  /** contact id → when it was blocked (null: not blocked). */
  const state = ref<Record<number, string | null>>({});

  /** Remembers a contact's block mark from an API answer or event (absent: unknown, kept). */
  function note(contact: { id: number; blocked_at?: string | null }): void {
    if (contact.blocked_at === undefined) return;
    state.value = { ...state.value, [contact.id]: contact.blocked_at };
  }

  function isBlocked(contactId: number | null | undefined): boolean {
    return contactId !== null && contactId !== undefined && Boolean(state.value[contactId]);
  }

  /** Whether this tab has heard the contact's block mark at all. */
  function knows(contactId: number): boolean {
    return contactId in state.value;
  }

  function blockedAt(contactId: number): string | null {
    return state.value[contactId] ?? null;
  }

  async function setBlocked(contactId: number, blocked: boolean): Promise<Blockable> {
    const ws = useSession().workspaceId;
    const contact = (await send(blocked ? "POST" : "DELETE", `/api/v1/workspaces/${ws}/contacts/${contactId}/block`)) as Blockable;
    // An answer without the field still tells what happened.
    note({ id: contactId, blocked_at: contact.blocked_at !== undefined ? contact.blocked_at : blocked ? new Date().toISOString() : null });
    return contact;
  }

  const session = useSession();
  let off: (() => void)[] = [];
  watch(
    () => session.stream,
    (stream) => {
      for (const f of off) f();
      off = stream
        ? [
            stream.on("contact.updated", (e: StreamEvent) => {
              const c = (e.data as { contact?: Blockable }).contact;
              if (c) note(c);
            }),
            stream.on("contact.blocked", (e: StreamEvent) => {
              const id = (e.data as { contact_id?: unknown }).contact_id;
              if (typeof id === "number" && !state.value[id]) note({ id, blocked_at: e.created_at ?? new Date().toISOString() });
            }),
          ]
        : [];
    },
    { immediate: true },
  );

  return { state, note, isBlocked, knows, blockedAt, setBlocked };
});
