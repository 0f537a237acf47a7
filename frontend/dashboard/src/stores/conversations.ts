// The conversation list: every conversation this tab has seen, by id (shared with the conversation
// pane, which reads and updates the same objects), and the ordered ids of the current view +
// filters. Pages come by keyset (`cursor` / `next_cursor`); the websocket keeps both up to date
// with no reload: a changed conversation is upserted, then enters, moves or leaves the list
// depending on whether it still matches the view.
import { defineStore } from "pinia";
import { computed, reactive, ref, watch } from "vue";
import { api, unwrap } from "@/api/client";
import type { operations } from "@/api/schema";
import type { Conversation, ConversationStatus, Priority, StreamEvent, TabCounts } from "@/api/types";
import type { Stream } from "@/realtime/socket";
import type { ListView } from "@/router";
import { useSession } from "./session";

export const PAGE_SIZE = 100;
export const STATUSES: ConversationStatus[] = ["open", "pending", "snoozed", "resolved"];
export const PRIORITIES: Priority[] = ["none", "low", "medium", "high", "urgent"];

/** The list's filters (also kept in the route's query, so a filtered list can be shared). */
export interface ListFilters {
  status: ConversationStatus | null;
  inbox_id: number | null;
  assignee_id: number | null;
  team_id: number | null;
  label: string | null;
  priority: Priority | null;
}

export const EMPTY_FILTERS: ListFilters = {
  status: null,
  inbox_id: null,
  assignee_id: null,
  team_id: null,
  label: null,
  priority: null,
};

/** The status a view lists: Inbox is open-only, Archive every status unless filtered, the others open unless filtered. */
export function viewStatus(view: ListView, filters: ListFilters): ConversationStatus | null {
  if (view === "inbox") return "open";
  if (view === "archive") return filters.status;
  return filters.status ?? "open";
}

export type ListQuery = NonNullable<
  operations["list_conversations_api_v1_workspaces__workspace_id__conversations_get"]["parameters"]["query"]
>;

/** The query the API gets for a view and its filters (the same rules the server applies). */
export function listQuery(view: ListView, filters: ListFilters): ListQuery {
  const q: ListQuery = {};
  const status = viewStatus(view, filters);
  if (view === "archive" && status === null) q.all_statuses = true;
  else if (status) q.status = status;
  if (view === "mine") q.mine = true;
  if (view === "unassigned") q.unassigned = true;
  if (filters.inbox_id !== null) q.inbox_id = filters.inbox_id;
  if (filters.assignee_id !== null && view !== "mine" && view !== "unassigned") q.assignee_id = filters.assignee_id;
  if (filters.team_id !== null) q.team_id = filters.team_id;
  if (filters.label) q.label = filters.label;
  if (filters.priority) q.priority = filters.priority;
  return q;
}

/** Whether a conversation belongs in a view with these filters, for agent `meId`. */
export function matchesView(conv: Conversation, view: ListView, filters: ListFilters, meId: number | null): boolean {
  const status = viewStatus(view, filters);
  if (status !== null && conv.status !== status) return false;
  if (view === "mine" && (meId === null || conv.assignee_id !== meId)) return false;
  if (view === "unassigned" && conv.assignee_id !== null) return false;
  if (view !== "mine" && view !== "unassigned" && filters.assignee_id !== null && conv.assignee_id !== filters.assignee_id)
    return false;
  if (filters.inbox_id !== null && conv.inbox_id !== filters.inbox_id) return false;
  if (filters.team_id !== null && conv.team_id !== filters.team_id) return false;
  if (filters.priority && conv.priority !== filters.priority) return false;
  if (filters.label && !conv.labels.includes(filters.label)) return false;
  return true;
}

function activityTime(conv: Conversation): number {
  const ms = Date.parse(conv.last_activity_at);
  return Number.isNaN(ms) ? 0 : ms;
}

/** Newest activity first; equal times by id, newest first (the server's keyset order). */
export function compareConversations(a: Conversation, b: Conversation): number {
  return activityTime(b) - activityTime(a) || b.id - a.id;
}

function sameFilters(a: ListFilters, b: ListFilters): boolean {
  return (Object.keys(EMPTY_FILTERS) as (keyof ListFilters)[]).every((k) => a[k] === b[k]);
}

export const useConversations = defineStore("conversations", () => {
  const session = useSession();

  /** Every conversation seen in this tab. The conversation pane reads and updates these objects. */
  const byId = reactive(new Map<number, Conversation>());
  /** The current list, in order. */
  const ids = ref<number[]>([]);
  const view = ref<ListView>("inbox");
  const filters = ref<ListFilters>({ ...EMPTY_FILTERS });
  const nextCursor = ref<string | null>(null);
  const loading = ref(false);
  const loadingMore = ref(false);
  const loaded = ref(false);
  const error = ref<unknown>(null);
  const counts = ref<TabCounts | null>(null);
  /** Bumped by every new query: answers for an older one are dropped. */
  let generation = 0;

  const items = computed(() => ids.value.map((id) => byId.get(id)).filter((c): c is Conversation => c !== undefined));
  const hasMore = computed(() => nextCursor.value !== null);

  function meId(): number | null {
    return session.me?.id ?? null;
  }

  function workspaceId(): number {
    const id = session.workspaceId;
    if (id === null) throw new Error("no workspace");
    return id;
  }

  function get(id: number): Conversation | undefined {
    return byId.get(id);
  }

  /** Stores a conversation (keeping the object others hold) and moves it in or out of the list. */
  function upsert(conv: Conversation): Conversation {
    let kept = byId.get(conv.id);
    // An event made without the conversation's channel at hand carries no reply window: keep
    // the last one known.
    if (kept && conv.reply_window == null) conv = { ...conv, reply_window: kept.reply_window };
    if (kept) Object.assign(kept, conv);
    else {
      byId.set(conv.id, { ...conv });
      kept = byId.get(conv.id) as Conversation;
    }
    place(kept);
    return kept;
  }

  /** Puts one conversation where it belongs in the current list, or takes it out. */
  function place(conv: Conversation): void {
    const list = ids.value;
    const at = list.indexOf(conv.id);
    if (at !== -1) list.splice(at, 1);
    if (!loaded.value || !matchesView(conv, view.value, filters.value, meId())) return;
    // Binary search for the first item that sorts after this one.
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const other = byId.get(list[mid] as number);
      if (other && compareConversations(other, conv) < 0) lo = mid + 1;
      else hi = mid;
    }
    // Past the last loaded row while more pages wait on the server: it arrives with its page.
    if (lo === list.length && nextCursor.value !== null) return;
    list.splice(lo, 0, conv.id);
  }

  function remove(id: number): void {
    const at = ids.value.indexOf(id);
    if (at !== -1) ids.value.splice(at, 1);
  }

  async function fetchPage(cursor: string | null): Promise<{ conversations: Conversation[]; next_cursor: string | null }> {
    const query: ListQuery = { ...listQuery(view.value, filters.value), limit: PAGE_SIZE };
    if (cursor) query.cursor = cursor;
    return unwrap(
      api.GET("/api/v1/workspaces/{workspace_id}/conversations", {
        params: { path: { workspace_id: workspaceId() }, query },
      }),
    );
  }

  function merge(page: Conversation[]): void {
    const present = new Set(ids.value);
    const newer: Conversation[] = [];
    for (const conv of page) {
      const kept = byId.get(conv.id);
      if (kept && activityTime(kept) > activityTime(conv)) {
        // An event brought a newer state while the page was on its way: that one decides.
        newer.push(kept);
        continue;
      }
      if (kept) Object.assign(kept, conv);
      else byId.set(conv.id, { ...conv });
      if (!present.has(conv.id)) {
        ids.value.push(conv.id);
        present.add(conv.id);
      }
    }
    for (const conv of newer) place(conv);
  }

  /** Shows a view with filters: the first page, fresh. Does nothing when it is already shown. */
  async function setQuery(v: ListView, f: ListFilters, force = false): Promise<void> {
    if (!force && loaded.value && v === view.value && sameFilters(f, filters.value) && !error.value) return;
    view.value = v;
    filters.value = { ...f };
    await reload();
  }

  // Conversations whose events came while the first page was on its way: the page may predate
  // them, so they are placed again once it is in (place() skips everything until then).
  const arrivedWhileLoading = new Set<number>();

  async function reload(): Promise<void> {
    const mine = ++generation;
    arrivedWhileLoading.clear();
    loading.value = true;
    loadingMore.value = false;
    error.value = null;
    try {
      const page = await fetchPage(null);
      if (mine !== generation) return;
      ids.value = [];
      nextCursor.value = page.next_cursor;
      loaded.value = true;
      merge(page.conversations);
      for (const id of arrivedWhileLoading) {
        const conv = byId.get(id);
        if (conv) place(conv);
      }
      arrivedWhileLoading.clear();
    } catch (e) {
      if (mine !== generation) return;
      ids.value = [];
      loaded.value = false;
      error.value = e;
    } finally {
      if (mine === generation) loading.value = false;
    }
    void refreshCounts();
  }

  /** The next page, when there is one and none is on its way. */
  async function loadMore(): Promise<void> {
    if (loading.value || loadingMore.value || nextCursor.value === null) return;
    const mine = generation;
    loadingMore.value = true;
    error.value = null;
    try {
      const page = await fetchPage(nextCursor.value);
      if (mine !== generation) return;
      nextCursor.value = page.next_cursor;
      merge(page.conversations);
    } catch (e) {
      if (mine === generation) error.value = e;
    } finally {
      if (mine === generation) loadingMore.value = false;
    }
  }

  async function refreshCounts(): Promise<void> {
    if (session.workspaceId === null) return;
    try {
      const query = filters.value.inbox_id !== null ? { inbox_id: filters.value.inbox_id } : {};
      counts.value = await unwrap(
        api.GET("/api/v1/workspaces/{workspace_id}/conversations/counts", {
          params: { path: { workspace_id: workspaceId() }, query },
        }),
      );
    } catch {
      // Counts are a hint; the next change tries again.
    }
  }

  let countsTimer: ReturnType<typeof setTimeout> | null = null;
  /** Counts are not sent as events: read them again a moment after changes settle. */
  function refreshCountsSoon(delay = 600): void {
    if (countsTimer) clearTimeout(countsTimer);
    countsTimer = setTimeout(() => {
      countsTimer = null;
      void refreshCounts();
    }, delay);
  }

  /** The count shown on a view's tab: open conversations (Archive: all of them). */
  function countFor(v: ListView): number | null {
    const c = counts.value;
    if (!c) return null;
    if (v === "inbox") return c.all.open;
    if (v === "mine") return c.mine.open;
    if (v === "unassigned") return c.unassigned.open;
    return c.all.open + c.all.pending + c.all.snoozed + c.all.resolved;
  }

  function onConversation(event: StreamEvent): void {
    const conv = event.data.conversation as Conversation | undefined;
    if (!conv || typeof conv.id !== "number") return;
    if (loading.value) arrivedWhileLoading.add(conv.id);
    upsert(conv);
    refreshCountsSoon();
  }

  function onContact(event: StreamEvent): void {
    const contact = event.data.contact as { id?: number; name?: string } | undefined;
    if (!contact || typeof contact.id !== "number" || typeof contact.name !== "string") return;
    for (const conv of byId.values()) if (conv.contact.id === contact.id) conv.contact.name = contact.name;
  }

  // Label and team changes come as one workspace-wide event, not one per conversation
  // (docs/events.md): apply them to every cached conversation.
  function onLabelUpdated(event: StreamEvent): void {
    const label = event.data.label as { name?: string } | undefined;
    const previous = event.data.previous_name;
    if (typeof label?.name !== "string" || typeof previous !== "string" || label.name === previous) return;
    for (const conv of byId.values()) {
      if (conv.labels.includes(previous)) {
        conv.labels = [...new Set(conv.labels.map((l) => (l === previous ? (label.name as string) : l)))].sort();
      }
    }
  }

  function onLabelDeleted(event: StreamEvent): void {
    const name = (event.data.label as { name?: string } | undefined)?.name;
    if (typeof name !== "string") return;
    for (const conv of byId.values()) if (conv.labels.includes(name)) conv.labels = conv.labels.filter((l) => l !== name);
  }

  function onTeamDeleted(event: StreamEvent): void {
    const teamId = event.data.team_id;
    if (typeof teamId !== "number") return;
    for (const conv of byId.values()) if (conv.team_id === teamId) conv.team_id = null;
  }

  // One subscription per stream; the stream appears when AppShell connects.
  let unsubscribe: (() => void)[] = [];
  function subscribe(stream: Stream | null): void {
    for (const off of unsubscribe) off();
    unsubscribe = [];
    if (!stream) return;
    unsubscribe = [
      stream.on("conversation.created", onConversation),
      stream.on("conversation.updated", onConversation),
      stream.on("contact.updated", onContact),
      stream.on("label.updated", onLabelUpdated),
      stream.on("label.deleted", onLabelDeleted),
      stream.on("team.deleted", onTeamDeleted),
    ];
  }
  watch(() => session.stream, subscribe, { immediate: true });

  /** Forgets everything: another agent signed in (or the workspace changed) in this tab. */
  function clear(): void {
    generation++;
    byId.clear();
    ids.value = [];
    nextCursor.value = null;
    loaded.value = false;
    loading.value = false;
    loadingMore.value = false;
    error.value = null;
    counts.value = null;
  }
  watch(() => `${session.me?.id ?? ""}/${session.workspaceId ?? ""}`, clear);

  return {
    byId,
    ids,
    items,
    view,
    filters,
    nextCursor,
    hasMore,
    loading,
    loadingMore,
    loaded,
    error,
    counts,
    get,
    upsert,
    remove,
    setQuery,
    reload,
    loadMore,
    refreshCounts,
    refreshCountsSoon,
    countFor,
    clear,
  };
});
