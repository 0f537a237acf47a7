// The conversation list store: which conversations a view holds, in which order, how pages and
// live events change it. The HTTP API is a fake `fetch` that answers like the server.
import { createPinia, setActivePinia } from "pinia";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { nextTick } from "vue";

// openapi-fetch keeps the fetch it finds when the client is created: install a forwarding fake first.
const net = vi.hoisted(() => {
  const state = { handler: (_url: URL, _req: Request): unknown => ({}), calls: [] as URL[] };
  // The handler may answer later (a promise) or fail (throw): the request then fails like a network error.
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = input instanceof Request ? input : new Request(String(input), init);
    const url = new URL(req.url, "http://localhost");
    state.calls.push(url);
    const body = await state.handler(url, req);
    return new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });
  }) as typeof fetch;
  return state;
});

import type { Conversation, TabCounts } from "@/api/types";
import { conversation as conv } from "./fixtures";
import { Stream } from "@/realtime/socket";
import {
  compareConversations,
  EMPTY_FILTERS,
  listQuery,
  matchesView,
  useConversations,
} from "@/stores/conversations";
import { useSession } from "@/stores/session";

const ME = 7;
const OTHER = 9;

const COUNTS: TabCounts = {
  all: { open: 3, pending: 1, snoozed: 0, resolved: 5 },
  mine: { open: 1, pending: 0, snoozed: 0, resolved: 0 },
  unassigned: { open: 2, pending: 0, snoozed: 0, resolved: 0 },
};

function setup(): { store: ReturnType<typeof useConversations>; stream: Stream } {
  setActivePinia(createPinia());
  const session = useSession();
  session.me = { id: ME, email: "me@x.test", name: "Me", display_name: null, locale: "en", avatar_url: null, preferences: {} as never, workspaces: [{ id: 1, name: "W", role: "agent" }] };
  session.workspaceId = 1;
  const stream = new Stream(1);
  session.stream = stream;
  return { store: useConversations(), stream };
}

function emit(stream: Stream, type: string, c: Conversation, seq: number): void {
  stream.dispatch({ seq, type, workspace_id: 1, inbox_id: c.inbox_id, data: { conversation: c } });
}

beforeEach(() => {
  net.calls.length = 0;
  net.handler = (url) => (url.pathname.endsWith("/counts") ? COUNTS : { conversations: [], next_cursor: null });
});
afterEach(() => vi.useRealTimers());

describe("view rules", () => {
  it("sends each view's parameters", () => {
    expect(listQuery("inbox", { ...EMPTY_FILTERS, status: "resolved" })).toEqual({ status: "open" });
    expect(listQuery("mine", EMPTY_FILTERS)).toEqual({ status: "open", mine: true });
    expect(listQuery("unassigned", { ...EMPTY_FILTERS, assignee_id: 3 })).toEqual({ status: "open", unassigned: true });
    expect(listQuery("archive", EMPTY_FILTERS)).toEqual({ all_statuses: true });
    expect(listQuery("archive", { ...EMPTY_FILTERS, status: "pending", label: "vip", inbox_id: 2, team_id: 4, priority: "high", assignee_id: 3 })).toEqual({
      status: "pending",
      label: "vip",
      inbox_id: 2,
      team_id: 4,
      priority: "high",
      assignee_id: 3,
    });
  });

  it("matches conversations to views", () => {
    const f = EMPTY_FILTERS;
    expect(matchesView(conv(1), "inbox", f, ME)).toBe(true);
    expect(matchesView(conv(1, { status: "resolved" }), "inbox", f, ME)).toBe(false);
    expect(matchesView(conv(1, { status: "resolved" }), "archive", f, ME)).toBe(true);
    expect(matchesView(conv(1, { status: "resolved" }), "archive", { ...f, status: "open" }, ME)).toBe(false);
    expect(matchesView(conv(1, { assignee_id: ME }), "mine", f, ME)).toBe(true);
    expect(matchesView(conv(1, { assignee_id: OTHER }), "mine", f, ME)).toBe(false);
    expect(matchesView(conv(1, { assignee_id: ME, status: "pending" }), "mine", f, ME)).toBe(false);
    expect(matchesView(conv(1, { assignee_id: ME, status: "pending" }), "mine", { ...f, status: "pending" }, ME)).toBe(true);
    expect(matchesView(conv(1), "unassigned", f, ME)).toBe(true);
    expect(matchesView(conv(1, { assignee_id: OTHER }), "unassigned", f, ME)).toBe(false);
    expect(matchesView(conv(1, { labels: ["a", "vip"] }), "inbox", { ...f, label: "vip" }, ME)).toBe(true);
    expect(matchesView(conv(1, { labels: ["a"] }), "inbox", { ...f, label: "vip" }, ME)).toBe(false);
    expect(matchesView(conv(1, { inbox_id: 2 }), "inbox", { ...f, inbox_id: 1 }, ME)).toBe(false);
    expect(matchesView(conv(1, { team_id: 4 }), "inbox", { ...f, team_id: 4 }, ME)).toBe(true);
    expect(matchesView(conv(1, { priority: "high" }), "inbox", { ...f, priority: "urgent" }, ME)).toBe(false);
    expect(matchesView(conv(1, { assignee_id: OTHER }), "inbox", { ...f, assignee_id: OTHER }, ME)).toBe(true);
    expect(matchesView(conv(1, { assignee_id: ME }), "inbox", { ...f, assignee_id: OTHER }, ME)).toBe(false);
  });

  it("orders newest activity first, then the higher id", () => {
    const same = "2025-01-01T10:00:00Z";
    const list = [conv(1), conv(3), conv(2), conv(5, { last_activity_at: same }), conv(4, { last_activity_at: same })];
    expect(list.sort(compareConversations).map((c) => c.id)).toEqual([5, 4, 3, 2, 1]);
  });
});

describe("loading", () => {
  it("loads the first page with the view's query and pages with the cursor", async () => {
    const { store } = setup();
    net.handler = (url) => {
      if (url.pathname.endsWith("/counts")) return COUNTS;
      if (!url.searchParams.get("cursor")) return { conversations: [conv(9), conv(8)], next_cursor: "c1" };
      return { conversations: [conv(8), conv(7)], next_cursor: null };
    };
    await store.setQuery("mine", EMPTY_FILTERS);
    const first = net.calls.find((u) => u.pathname === "/api/v1/workspaces/1/conversations");
    expect(first?.searchParams.get("mine")).toBe("true");
    expect(first?.searchParams.get("status")).toBe("open");
    expect(first?.searchParams.get("limit")).toBe("100");
    expect(store.ids).toEqual([9, 8]);
    expect(store.hasMore).toBe(true);
    await store.loadMore();
    const second = net.calls.filter((u) => u.pathname === "/api/v1/workspaces/1/conversations")[1];
    expect(second?.searchParams.get("cursor")).toBe("c1");
    expect(store.ids).toEqual([9, 8, 7]); // the repeated 8 is not listed twice
    expect(store.hasMore).toBe(false);
    await store.loadMore(); // nothing more to ask for
    expect(net.calls.filter((u) => u.pathname.endsWith("/conversations")).length).toBe(2);
  });

  it("keeps the answer of the latest query only", async () => {
    const { store } = setup();
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    net.handler = async (url) => {
      if (url.pathname.endsWith("/counts")) return COUNTS;
      if (url.searchParams.get("mine")) return { conversations: [conv(1, { assignee_id: ME })], next_cursor: null };
      await held; // the Inbox answer comes last
      return { conversations: [conv(2)], next_cursor: null };
    };
    const a = store.setQuery("inbox", EMPTY_FILTERS);
    const b = store.setQuery("mine", EMPTY_FILTERS);
    await b;
    release();
    await a;
    expect(store.view).toBe("mine");
    expect(store.ids).toEqual([1]);
    expect(store.loading).toBe(false);
  });

  it("keeps a newer state that arrived by event while the page was loading", async () => {
    const { store, stream } = setup();
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    net.handler = async (url) => {
      if (url.pathname.endsWith("/counts")) return COUNTS;
      await held;
      return { conversations: [conv(3), conv(2), conv(1)], next_cursor: null };
    };
    const loading = store.setQuery("inbox", EMPTY_FILTERS);
    await new Promise((r) => setTimeout(r, 0));
    emit(stream, "conversation.updated", conv(2, { status: "resolved", last_activity_at: "2030-01-01T00:00:00Z" }), 1);
    emit(stream, "conversation.updated", conv(1, { last_activity_at: "2030-01-01T00:00:00Z" }), 2);
    release();
    await loading;
    expect(store.get(2)?.status).toBe("resolved");
    expect(store.ids).toEqual([1, 3]);
  });

  it("lists a conversation created while the first page was loading", async () => {
    const { store, stream } = setup();
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    net.handler = async (url) => {
      if (url.pathname.endsWith("/counts")) return COUNTS;
      await held;
      return { conversations: [conv(3), conv(2), conv(1)], next_cursor: null };
    };
    const loading = store.setQuery("inbox", EMPTY_FILTERS);
    await new Promise((r) => setTimeout(r, 0));
    emit(stream, "conversation.created", conv(10, { last_activity_at: "2030-01-01T00:00:00Z" }), 1);
    release();
    await loading;
    expect(store.ids).toEqual([10, 3, 2, 1]);
  });

  it("shows an error and recovers on retry", async () => {
    const { store } = setup();
    net.handler = () => {
      throw new TypeError("down");
    };
    await store.setQuery("inbox", EMPTY_FILTERS);
    expect(store.error).not.toBeNull();
    expect(store.loaded).toBe(false);
    net.handler = (url) => (url.pathname.endsWith("/counts") ? COUNTS : { conversations: [conv(1)], next_cursor: null });
    await store.reload();
    expect(store.error).toBeNull();
    expect(store.ids).toEqual([1]);
  });

  it("reads the tab counts", async () => {
    const { store } = setup();
    await store.setQuery("inbox", EMPTY_FILTERS);
    await vi.waitFor(() => expect(store.counts).not.toBeNull());
    expect(store.countFor("inbox")).toBe(3);
    expect(store.countFor("mine")).toBe(1);
    expect(store.countFor("unassigned")).toBe(2);
    expect(store.countFor("archive")).toBe(9);
  });
});

describe("live updates", () => {
  async function loaded(view: "inbox" | "mine" | "unassigned" | "archive", page: Conversation[], cursor: string | null = null) {
    const s = setup();
    net.handler = (url) => (url.pathname.endsWith("/counts") ? COUNTS : { conversations: page, next_cursor: cursor });
    await s.store.setQuery(view, EMPTY_FILTERS);
    return s;
  }

  it("puts a new conversation on top and moves an updated one up", async () => {
    const { store, stream } = await loaded("inbox", [conv(3), conv(2), conv(1)]);
    emit(stream, "conversation.created", conv(10), 1);
    expect(store.ids).toEqual([10, 3, 2, 1]);
    emit(stream, "conversation.updated", conv(1, { last_activity_at: "2030-01-01T00:00:00Z", last_message_preview: "new!" }), 2);
    expect(store.ids).toEqual([1, 10, 3, 2]);
    expect(store.get(1)?.last_message_preview).toBe("new!");
  });

  it("applies label renames and deletions and team deletions to cached conversations", async () => {
    const { store, stream } = await loaded("inbox", [conv(2, { labels: ["billing", "vip"], team_id: 7 }), conv(1, { labels: ["vip"] })]);
    stream.dispatch({ seq: 5, type: "label.updated", workspace_id: 1, inbox_id: null, data: { label: { id: 1, name: "accounts", color: "#000000" }, previous_name: "billing" } });
    expect(store.get(2)?.labels).toEqual(["accounts", "vip"]);
    stream.dispatch({ seq: 6, type: "label.deleted", workspace_id: 1, inbox_id: null, data: { label: { id: 2, name: "vip", color: "#000000" } } });
    expect(store.get(2)?.labels).toEqual(["accounts"]);
    expect(store.get(1)?.labels).toEqual([]);
    stream.dispatch({ seq: 7, type: "team.deleted", workspace_id: 1, inbox_id: null, data: { team_id: 7 } });
    expect(store.get(2)?.team_id).toBeNull();
  });

  it("keeps the same object for other screens and upserts from them", async () => {
    const { store } = await loaded("inbox", [conv(2), conv(1)]);
    const held = store.get(2);
    store.upsert(conv(2, { unread_count: 0, priority: "urgent" }));
    expect(store.get(2)).toBe(held);
    expect(held?.priority).toBe("urgent");
  });

  it("removes a resolved conversation from Inbox and keeps it in Archive", async () => {
    const inbox = await loaded("inbox", [conv(2), conv(1)]);
    emit(inbox.stream, "conversation.updated", conv(2, { status: "resolved" }), 1);
    expect(inbox.store.ids).toEqual([1]);
    expect(inbox.store.get(2)?.status).toBe("resolved");

    const archive = await loaded("archive", [conv(2), conv(1)]);
    emit(archive.stream, "conversation.updated", conv(2, { status: "resolved" }), 1);
    expect(archive.store.ids).toEqual([2, 1]);
  });

  it("moves assignments between Unassigned and Mine", async () => {
    const un = await loaded("unassigned", [conv(2), conv(1)]);
    emit(un.stream, "conversation.updated", conv(2, { assignee_id: OTHER }), 1);
    expect(un.store.ids).toEqual([1]);

    const mine = await loaded("mine", [conv(1, { assignee_id: ME })]);
    emit(mine.stream, "conversation.updated", conv(5, { assignee_id: OTHER }), 1);
    expect(mine.store.ids).toEqual([1]);
    emit(mine.stream, "conversation.updated", conv(5, { assignee_id: ME }), 2);
    expect(mine.store.ids).toEqual([5, 1]);
    emit(mine.stream, "conversation.updated", conv(1, { assignee_id: OTHER }), 3);
    expect(mine.store.ids).toEqual([5]);
  });

  it("does not add a conversation older than the last loaded row while pages remain", async () => {
    const { store, stream } = await loaded("inbox", [conv(30), conv(20)], "more");
    emit(stream, "conversation.updated", conv(5), 1);
    expect(store.ids).toEqual([30, 20]);
    emit(stream, "conversation.updated", conv(25), 2);
    expect(store.ids).toEqual([30, 25, 20]);
  });

  it("subscribes when the stream appears later, and refreshes counts after changes", async () => {
    vi.useFakeTimers();
    setActivePinia(createPinia());
    const session = useSession();
    session.workspaceId = 1;
    session.me = { id: ME } as never;
    const store = useConversations();
    net.handler = (url) => (url.pathname.endsWith("/counts") ? COUNTS : { conversations: [conv(1)], next_cursor: null });
    await store.setQuery("inbox", EMPTY_FILTERS);
    const stream = new Stream(1);
    session.stream = stream;
    await nextTick();
    const before = net.calls.filter((u) => u.pathname.endsWith("/counts")).length;
    emit(stream, "conversation.created", conv(2), 1);
    emit(stream, "conversation.created", conv(3), 2);
    expect(store.ids).toEqual([3, 2, 1]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(net.calls.filter((u) => u.pathname.endsWith("/counts")).length).toBe(before + 1); // debounced: one read
  });

  it("forgets the previous agent's conversations when another signs in", async () => {
    const { store } = await loaded("inbox", [conv(2), conv(1)]);
    const session = useSession();
    session.me = { ...session.me!, id: 99 };
    await nextTick();
    expect(store.ids).toEqual([]);
    expect(store.get(2)).toBeUndefined();
    net.handler = (url) => (url.pathname.endsWith("/counts") ? COUNTS : { conversations: [conv(5)], next_cursor: null });
    await store.setQuery("inbox", EMPTY_FILTERS); // same view and filters: read again all the same
    expect(store.ids).toEqual([5]);
  });

  it("renames the contact on its conversations", async () => {
    const { store, stream } = await loaded("inbox", [conv(2), conv(1)]);
    stream.dispatch({ seq: 9, type: "contact.updated", workspace_id: 1, inbox_id: 1, data: { contact: { id: 102, name: "Zahra" } } });
    expect(store.get(2)?.contact.name).toBe("Zahra");
    expect(store.get(1)?.contact.name).toBe("Contact 1");
  });
});
