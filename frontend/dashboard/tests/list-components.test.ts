// The list's components: the virtual list renders only the rows in view; the conversation list
// renders rows from the store, opens one on click, moves with j/k, and searches in place.
import { flushPromises, mount } from "@vue/test-utils";
import { createPinia, setActivePinia } from "pinia";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { defineComponent, h } from "vue";
import { createMemoryHistory, createRouter, type Router } from "vue-router";

const net = vi.hoisted(() => {
  const state = { handler: (_url: URL): unknown => ({}), calls: [] as URL[] };
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = input instanceof Request ? input : new Request(String(input), init);
    const url = new URL(req.url, "http://localhost");
    state.calls.push(url);
    const body = await state.handler(url);
    return new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });
  }) as typeof fetch;
  return state;
});

import type { Conversation, TabCounts } from "@/api/types";
import { conversation as conv } from "./fixtures";
import ConversationList from "@/components/list/ConversationList.vue";
import { highlight, searchWords, snippet } from "@/components/list/highlight";
import VirtualList from "@/components/list/VirtualList.vue";
import { i18n } from "@/i18n";
import { Stream } from "@/realtime/socket";
import { useConversations } from "@/stores/conversations";
import { useSession } from "@/stores/session";
import { useWorkspace } from "@/stores/workspace";

const COUNTS: TabCounts = {
  all: { open: 1234, pending: 1, snoozed: 0, resolved: 5 },
  mine: { open: 1, pending: 0, snoozed: 0, resolved: 0 },
  unassigned: { open: 2, pending: 0, snoozed: 0, resolved: 0 },
};

describe("VirtualList", () => {
  const Row = defineComponent({ props: { n: { type: Number, required: true } }, setup: (p) => () => h("span", { class: "cell" }, `row ${p.n}`) });
  const items = Array.from({ length: 10_000 }, (_, i) => i);

  function mountList() {
    return mount(VirtualList<number>, {
      props: { items, itemHeight: 72, itemKey: (n: number) => n, overscan: 4, initialHeight: 720 },
      slots: { default: ({ item }: { item: number }) => h(Row, { n: item }) },
    });
  }

  it("renders only the rows in view plus the overscan", () => {
    const w = mountList();
    const rows = w.findAll(".vrow");
    expect(rows.length).toBe(19); // a fixed window: 10 visible + 1 partly shown + 2 × 4 overscan
    expect(rows[0]?.text()).toBe("row 0");
    expect(w.find(".spacer").attributes("style")).toContain(`height: ${10_000 * 72}px`);
  });

  it("follows the scroll position", async () => {
    const w = mountList();
    const el = w.element as HTMLElement;
    el.scrollTop = 5000 * 72;
    await w.trigger("scroll");
    const rows = w.findAll(".vrow");
    expect(rows.length).toBe(19); // 4 above + 11 in view + 4 below
    expect(rows[0]?.text()).toBe("row 4996");
    expect(rows[0]?.attributes("style")).toContain(`translateY(${4996 * 72}px)`);
    expect(w.emitted("near-end")).toBeUndefined();
    el.scrollTop = 9990 * 72;
    await w.trigger("scroll");
    expect(w.emitted("near-end")?.length).toBe(1);
    expect(w.findAll(".vrow").at(-1)?.text()).toBe("row 9999");
  });

  it("reuses row elements while scrolling instead of creating new ones", async () => {
    const w = mountList();
    const el = w.element as HTMLElement;
    el.scrollTop = 5000 * 72;
    await w.trigger("scroll");
    const before = new Set(w.findAll(".vrow").map((r) => r.element));
    el.scrollTop = 5001 * 72;
    await w.trigger("scroll");
    const after = w.findAll(".vrow");
    expect(after.map((r) => r.text())).toContain("row 4997");
    expect(after.map((r) => r.text())).toContain("row 5015");
    expect(after.map((r) => r.text())).not.toContain("row 4996");
    expect(after.every((r) => before.has(r.element))).toBe(true);
  });
});

describe("search highlighting", () => {
  it("marks words as text pieces, never HTML", () => {
    const words = searchWords("<b>ref 42");
    expect(words).toEqual(["b", "ref", "42"]);
    expect(highlight("Refund <b>42</b>", ["ref", "42"])).toEqual([
      { text: "Ref", match: true },
      { text: "und <b>", match: false },
      { text: "42", match: true },
      { text: "</b>", match: false },
    ]);
    const long = `${"x ".repeat(100)}needle ${"y ".repeat(100)}`;
    const s = snippet(long, ["needle"], 60);
    expect(s.startsWith("…")).toBe(true);
    expect(s).toContain("needle");
    expect(s.length).toBeLessThanOrEqual(62);
  });
});

describe("ConversationList", () => {
  let router: Router;

  beforeEach(async () => {
    setActivePinia(createPinia());
    const session = useSession();
    session.me = { id: 7, email: "me@x.test", name: "Me", display_name: null, locale: "en", avatar_url: null, preferences: { hotkeys: true } as never, workspaces: [{ id: 1, name: "W", role: "agent" }] };
    session.workspaceId = 1;
    session.stream = new Stream(1);
    const ws = useWorkspace();
    ws.inboxes = [{ id: 1, name: "Site", channel_type: "web", created_at: "", settings: {}, uid: "u", webhook_path: "", is_enabled: true }];
    ws.labels = [{ id: 1, name: "vip", color: "#f00" }];
    ws.members = [{ user_id: 9, email: "a@x", name: "Ayşe Yılmaz", display_name: null, avatar_url: null, role: "agent", is_active: true, availability: "online", status: "online", team_ids: [], inbox_ids: [1] }];
    ws.loaded = true;
    net.calls.length = 0;
    net.handler = (url) => {
      if (url.pathname.endsWith("/counts")) return COUNTS;
      if (url.pathname.endsWith("/search"))
        return {
          messages: [{ id: 55, conversation_id: 3, inbox_id: 1, kind: "incoming", sender_type: "contact", sender_id: 1, text: "where is my refund?", content_type: "text", source_id: null, delivery_status: null, failure_reason: null, failure_detail: null, delivery_attempts: 0, next_attempt_at: null, data: {}, created_at: "2025-01-01T00:00:00Z" }],
          contacts: [],
        };
      return {
        conversations: [
          conv(3, { unread_count: 2, priority: "urgent", labels: ["vip"] }),
          conv(2, { status: "pending", assignee_id: 9 }),
          conv(1, { contact: { id: 5, name: '<img src=x onerror="alert(1)">' } }),
        ],
        next_cursor: null,
      };
    };
    router = createRouter({
      history: createMemoryHistory(),
      routes: [{ path: "/:view(inbox|mine|unassigned|archive)/:id(\\d+)?", component: { render: () => null } }],
    });
    await router.push("/inbox");
  });
  afterEach(() => vi.useRealTimers());

  async function mountList(view: "inbox" | "archive" = "inbox", selectedId: number | null = null) {
    const w = mount(ConversationList, { props: { view, selectedId }, global: { plugins: [router, i18n] }, attachTo: document.body });
    await flushPromises();
    return w;
  }

  it("renders rows newest first with their marks, and user text as text", async () => {
    const w = await mountList();
    const rows = w.findAll('[data-testid="conversation-row"]');
    expect(rows.map((r) => r.attributes("data-id"))).toEqual(["3", "2", "1"]);
    expect(rows[0]?.attributes("data-unread")).toBe("true");
    expect(rows[0]?.find('[data-testid="row-unread"]').text()).toBe("2");
    expect(rows[0]?.find('[data-testid="row-priority"]').exists()).toBe(true);
    expect(rows[0]?.find('[data-testid="row-label"]').text()).toBe("vip");
    expect(rows[1]?.attributes("data-unread")).toBe("false");
    expect(rows[1]?.find('[data-testid="row-status"]').text()).toBe("Pending");
    expect(rows[1]?.find('[data-testid="row-assignee"]').text()).toBe("AY");
    expect(rows[0]?.find('[data-testid="row-status"]').exists()).toBe(false);
    expect(rows[2]?.find('[data-testid="row-name"]').text()).toBe('<img src=x onerror="alert(1)">');
    expect(rows[2]?.find("img").exists()).toBe(false);
    expect(w.find('[data-testid="view-count-inbox"]').text()).toBe("1,234");
    expect(w.find('[data-testid="filter-status"]').exists()).toBe(false); // Inbox is open-only
    w.unmount();
  });

  it("opens a row, keeping the filters in the query", async () => {
    await router.push("/inbox?label=vip");
    const w = await mountList();
    await w.find('[data-testid="conversation-row"][data-id="2"]').trigger("click");
    await flushPromises();
    expect(router.currentRoute.value.fullPath).toBe("/inbox/2?label=vip");
    w.unmount();
  });

  it("moves the selection with j and k, not while typing", async () => {
    const w = await mountList("inbox", 3);
    window.dispatchEvent(new KeyboardEvent("keydown", { key: "j" }));
    await flushPromises();
    expect(router.currentRoute.value.path).toBe("/inbox/2");
    await w.setProps({ selectedId: 2 });
    window.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowUp" }));
    await flushPromises();
    expect(router.currentRoute.value.path).toBe("/inbox/3");
    const input = w.find('[data-testid="list-search"]').element as HTMLInputElement;
    input.dispatchEvent(new KeyboardEvent("keydown", { key: "j", bubbles: true }));
    await flushPromises();
    expect(router.currentRoute.value.path).toBe("/inbox/3");
    const session = useSession();
    session.me = { ...session.me!, preferences: { ...session.preferences, hotkeys: false } };
    window.dispatchEvent(new KeyboardEvent("keydown", { key: "j" }));
    await flushPromises();
    expect(router.currentRoute.value.path).toBe("/inbox/3"); // hotkeys turned off in settings
    expect(w.findAll('[data-testid="conversation-row"]').length).toBe(3); // a settings change keeps the list
    w.unmount();
  });

  it("applies a filter through the route and the store", async () => {
    const w = await mountList("archive");
    const select = w.find('[data-testid="filter-status"]');
    expect(select.exists()).toBe(true);
    await select.setValue("resolved");
    await flushPromises();
    expect(router.currentRoute.value.query.status).toBe("resolved");
    await w.setProps({}); // the route drives the query
    await flushPromises();
    const lists = net.calls.filter((u) => u.pathname === "/api/v1/workspaces/1/conversations");
    expect(lists.at(-1)?.searchParams.get("status")).toBe("resolved");
    expect(useConversations().filters.status).toBe("resolved");
    w.unmount();
  });

  it("searches after a pause, shows results in place of the list, and Escape clears", async () => {
    vi.useFakeTimers();
    const w = await mountList();
    const input = w.find('[data-testid="list-search"]');
    await input.setValue("refund");
    expect(net.calls.some((u) => u.pathname.endsWith("/search"))).toBe(false); // debounced
    await vi.advanceTimersByTimeAsync(300);
    await flushPromises();
    const search = net.calls.find((u) => u.pathname.endsWith("/search"));
    expect(search?.searchParams.get("q")).toBe("refund");
    expect(w.find('[data-testid="conversation-row"]').exists()).toBe(false);
    const hit = w.find('[data-testid="search-result"]');
    expect(hit.attributes("data-conversation-id")).toBe("3");
    expect(hit.find("mark").text()).toBe("refund");
    await hit.trigger("click");
    await flushPromises();
    expect(router.currentRoute.value.path).toBe("/inbox/3");
    await input.trigger("keydown", { key: "Escape" });
    await flushPromises();
    expect((input.element as HTMLInputElement).value).toBe("");
    expect(w.findAll('[data-testid="conversation-row"]').length).toBe(3);
    w.unmount();
  });

  it("shows a live conversation without reload", async () => {
    const w = await mountList();
    useSession().stream?.dispatch({ seq: 1, type: "conversation.created", workspace_id: 1, inbox_id: 1, data: { conversation: conv(50, { contact: { id: 9, name: "New person" } }) } });
    await flushPromises();
    const first = w.find('[data-testid="conversation-row"]');
    expect(first.attributes("data-id")).toBe("50");
    expect(first.find('[data-testid="row-name"]').text()).toBe("New person");
    w.unmount();
  });

  it("shows an error with a retry button", async () => {
    net.handler = () => {
      throw new TypeError("down");
    };
    const w = await mountList();
    expect(w.find('[data-testid="list-error"]').exists()).toBe(true);
    net.handler = (url) => (url.pathname.endsWith("/counts") ? COUNTS : { conversations: [conv(1)], next_cursor: null });
    await w.find('[data-testid="list-retry"]').trigger("click");
    await flushPromises();
    expect(w.findAll('[data-testid="conversation-row"]').length).toBe(1);
    w.unmount();
  });
});
