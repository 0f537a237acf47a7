// The live visitors page: the table from GET …/visitors/live, live rows from the stream, the
// empty state, and "Start chat" (POST …/visitors/{id}/chat, then the conversation opens).
import { flushPromises, mount } from "@vue/test-utils";
import { createPinia, setActivePinia } from "pinia";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createMemoryHistory, createRouter } from "vue-router";
import type { Visit } from "@/api/types";
import { i18n } from "@/i18n";
import { Stream } from "@/realtime/socket";
import { useSession } from "@/stores/session";
import { useWorkspace } from "@/stores/workspace";
import VisitorsView from "@/views/VisitorsView.vue";
import { visit } from "./fixtures";

let live: Visit[] = [];
let chatStatus = 201;
const calls: { method: string; path: string; body: unknown }[] = [];

beforeEach(() => {
  i18n.global.locale.value = "en";
  live = [];
  chatStatus = 201;
  calls.length = 0;
  vi.stubGlobal("fetch", async (input: RequestInfo | URL, init?: RequestInit) => {
    const method = init?.method ?? "GET";
    const path = String(input);
    calls.push({ method, path, body: init?.body ? JSON.parse(String(init.body)) : undefined });
    if (path.endsWith("/visitors/live")) return Response.json({ visitors: live });
    if (path.endsWith("/chat")) {
      if (chatStatus !== 201)
        return Response.json({ error: { code: "contact_blocked", message: "This contact is blocked.", field: null } }, { status: chatStatus });
      return Response.json({ conversation_id: 12 }, { status: 201 });
    }
    return Response.json({});
  });
});
afterEach(() => vi.unstubAllGlobals());

async function mountView() {
  setActivePinia(createPinia());
  const session = useSession();
  session.workspaceId = 1;
  const stream = new Stream(1);
  session.stream = stream;
  useWorkspace().inboxes = [{ id: 2, name: "Shop website", channel_type: "web" } as never];
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: "/visitors", component: VisitorsView },
      { path: "/inbox/:id", component: { template: "<div />" } },
    ],
  });
  await router.push("/visitors");
  const w = mount(VisitorsView, { global: { plugins: [i18n, router] } });
  await flushPromises();
  return { w, stream, router };
}

describe("VisitorsView", () => {
  it("says so when nobody is on the site", async () => {
    const { w } = await mountView();
    expect(w.get('[data-testid="visitors-empty"]').text()).toContain("Nobody is on your websites right now");
  });

  it("lists the visitors with their page, place, source, client and conversation", async () => {
    live = [visit(1, { conversation_id: 12, contact: { id: 5, name: "Ann", email: null, blocked: false } }), visit(2, { last_seen_at: "2026-11-24T17:01:00+00:00" })];
    const { w } = await mountView();
    const rows = w.findAll('[data-testid="visitor-row"]');
    expect(rows.map((r) => r.attributes("data-id"))).toEqual(["1", "2"]);
    expect(rows[0]!.get('[data-testid="visitor-name"]').text()).toBe("Ann");
    expect(rows[0]!.text()).toContain("Shop website");
    expect(rows[0]!.get('[data-testid="visitor-page"]').attributes("href")).toBe("https://shop.example.com/shoes?id=4");
    expect(rows[0]!.get('[data-testid="visitor-place"]').text()).toMatch(/^Istanbul/);
    // A flag image, not an emoji (empty boxes on Windows), beside the country's name.
    const flag = rows[0]!.get('[data-testid="visitor-place"] [data-testid="country-flag"]');
    expect(flag.attributes("src")).toMatch(/tr\.svg/);
    expect(rows[0]!.get('[data-testid="visitor-place"]').text()).not.toMatch(/\p{Regional_Indicator}/u);
    expect(rows[0]!.get('[data-testid="visitor-source"]').text()).toBe("Search · Google");
    expect(rows[0]!.text()).toContain("Chrome 131 · Windows 10 · Desktop");
    expect(rows[0]!.get('[data-testid="visitor-conversation"]').attributes("href")).toBe("/inbox/12");
    expect(rows[1]!.find('[data-testid="visitor-conversation"]').exists()).toBe(false);
    expect(w.get('[data-testid="visitors-count"]').text()).toBe("On your websites now: 2");
  });

  it("isolates the visitor's own text (a Persian page title, a name) from the row's direction", async () => {
    live = [visit(1, { current_title: "سبد خرید (۳ کالا).", contact: { id: 5, name: "Sara Ahmadi", email: null, blocked: false } })];
    const { w } = await mountView();
    const row = w.get('[data-testid="visitor-row"]');
    expect(row.get('[data-testid="visitor-page"]').attributes("dir")).toBe("auto");
    expect(row.get('[data-testid="visitor-name"]').attributes("dir")).toBe("auto");
    expect(row.get('[data-testid="visitor-place"] bdi').text()).toBe("Istanbul");
    // In Persian the country is named in Persian, after a Persian comma, in the page's direction.
    i18n.global.locale.value = "fa";
    await flushPromises();
    expect(row.get('[data-testid="visitor-place"]').text()).toBe("Istanbul، ترکیه");
    i18n.global.locale.value = "en";
  });

  it("adds visitors from the stream and greys out one who left", async () => {
    live = [visit(1)];
    const { w, stream } = await mountView();
    stream.dispatch({ seq: null, type: "visitor.updated", workspace_id: 1, inbox_id: 2, data: { visit: visit(3, { last_seen_at: "2026-11-24T17:20:00+00:00" }) } });
    stream.dispatch({ seq: null, type: "visitor.left", workspace_id: 1, inbox_id: 2, data: { visit_id: 1 } });
    await flushPromises();
    const rows = w.findAll('[data-testid="visitor-row"]');
    expect(rows.map((r) => r.attributes("data-id"))).toEqual(["3", "1"]);
    expect(rows[1]!.attributes("data-leaving")).toBe("true");
    expect(rows[1]!.find('[data-testid="visitor-start-chat"]').exists()).toBe(false);
    expect(w.get('[data-testid="visitors-count"]').text()).toBe("On your websites now: 1");
  });

  it("starts a chat and opens the conversation", async () => {
    live = [visit(4)];
    const { w, router } = await mountView();
    await w.get('[data-testid="visitor-start-chat"]').trigger("click");
    const dialog = w.get('[data-testid="start-chat-dialog"]');
    expect(dialog.text()).toContain("Start a chat with Istanbul 704");
    await dialog.trigger("submit");
    expect(w.get('[data-testid="start-chat-error"]').text()).toBe("Write a message first.");
    expect(calls.some((c) => c.method === "POST")).toBe(false);
    await w.get('[data-testid="start-chat-text"]').setValue("  Hi! Can I help you find a size?  ");
    await w.get('[data-testid="start-chat-dialog"]').trigger("submit");
    await flushPromises();
    expect(calls.find((c) => c.method === "POST")).toEqual({ method: "POST", path: "/api/v1/workspaces/1/visitors/4/chat", body: { text: "Hi! Can I help you find a size?" } });
    expect(router.currentRoute.value.fullPath).toBe("/inbox/12");
    expect(w.find('[data-testid="start-chat-dialog"]').exists()).toBe(false);
  });

  it("keeps the dialog open with the server's reason when the chat is refused", async () => {
    live = [visit(4)];
    chatStatus = 409;
    const { w, router } = await mountView();
    await w.get('[data-testid="visitor-start-chat"]').trigger("click");
    await w.get('[data-testid="start-chat-text"]').setValue("Hello");
    await w.get('[data-testid="start-chat-dialog"]').trigger("submit");
    await flushPromises();
    expect(w.get('[data-testid="start-chat-error"]').text()).toBe("The chat was not started: This contact is blocked.");
    expect(router.currentRoute.value.fullPath).toBe("/visitors");
  });

  it("works in Persian", async () => {
    i18n.global.locale.value = "fa";
    live = [visit(1), visit(2)];
    const { w } = await mountView();
    expect(w.get("h1").text()).toBe("بازدیدکنندگان");
    expect(w.get('[data-testid="visitors-count"]').text()).toBe("اکنون در وب‌سایت‌های شما: ۲");
    expect(w.findAll('[data-testid="visitor-row"]')[0]!.get('[data-testid="visitor-source"]').text()).toBe("جستجو · Google");
  });
});
