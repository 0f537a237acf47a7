// The contact panel's website visitor section (facts, ticking time on site, live updates from
// visitor.updated / visitor.left) and blocking (W4): the confirm step, the API calls, the
// "Blocked" badges in the panel and the conversation header. The HTTP API is a fake `fetch`;
// the stream is the real Stream class fed with dispatch().
import { flushPromises, mount } from "@vue/test-utils";
import { createPinia, setActivePinia } from "pinia";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createMemoryHistory, createRouter } from "vue-router";
import type { ContactDetail, Visit } from "@/api/types";
import ContactPanel from "@/components/conversation/ContactPanel.vue";
import ConversationHeader from "@/components/conversation/ConversationHeader.vue";
import VisitorSection from "@/components/visitors/VisitorSection.vue";
import { i18n } from "@/i18n";
import { Stream } from "@/realtime/socket";
import { useConversations } from "@/stores/conversations";
import { useSession } from "@/stores/session";
import { conversation, visit } from "./fixtures";

const NOW = new Date("2026-11-24T17:06:00+00:00").getTime();
const CONTACT = 701;

type Handler = (method: string, path: string, body: unknown) => unknown;
let handler: Handler;
const calls: string[] = [];

function detail(over: Partial<ContactDetail> & { blocked_at?: string | null } = {}): ContactDetail {
  return { id: CONTACT, name: "Istanbul 701", email: null, phone: null, attributes: {}, created_at: "2026-11-24T17:00:00Z", identities: [], conversations: [], ...over } as ContactDetail;
}

function setup(): Stream {
  setActivePinia(createPinia());
  const session = useSession();
  session.workspaceId = 1;
  session.me = { id: 1, workspaces: [{ id: 1, name: "W", role: "agent" }] } as never;
  const stream = new Stream(1);
  session.stream = stream;
  return stream;
}

function updated(stream: Stream, v: Visit): void {
  stream.dispatch({ seq: null, type: "visitor.updated", workspace_id: 1, inbox_id: 2, data: { visit: v } });
}

beforeEach(() => {
  i18n.global.locale.value = "en";
  calls.length = 0;
  handler = () => ({});
  vi.stubGlobal("fetch", async (input: RequestInfo | URL, init?: RequestInit) => {
    const method = init?.method ?? "GET";
    const path = String(input);
    calls.push(`${method} ${path}`);
    const body = handler(method, path, init?.body ? JSON.parse(String(init.body)) : undefined);
    return new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });
  });
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe("VisitorSection", () => {
  it("shows what is known about the visitor", async () => {
    vi.useFakeTimers({ now: NOW, toFake: ["Date", "setInterval", "clearInterval", "setTimeout", "clearTimeout"] });
    setup();
    handler = () => ({ visits_count: 3, visits: [visit(1)] });
    const w = mount(VisitorSection, { props: { contactId: CONTACT }, global: { plugins: [i18n] } });
    await flushPromises();
    expect(calls).toEqual([`GET /api/v1/workspaces/1/contacts/${CONTACT}/visits`]);
    const text = (id: string): string => w.get(`[data-testid="${id}"]`).text();
    expect(w.get('[data-testid="visitor-state"]').attributes("data-online")).toBe("true");
    expect(text("visitor-state")).toBe("On the website now");
    const page = w.get('[data-testid="visitor-current-page"]');
    expect(page.text()).toBe("Red shoes");
    expect(page.attributes("href")).toBe("https://shop.example.com/shoes?id=4");
    // Intl's unit names differ between ICU versions ("min" / "mins"): the numbers are what matter.
    expect(text("visitor-time-on-site")).toMatch(/^5 mins?$/);
    expect(text("visitor-page-count")).toBe("2");
    expect(text("visitor-visits-count")).toBe("3");
    expect(text("visitor-source")).toBe("Search · Google");
    expect(text("visitor-referrer")).toBe("https://www.google.com/");
    expect(text("visitor-location")).toMatch(/^Istanbul, T/);
    expect(text("visitor-ip")).toBe("203.0.113.9");
    expect(text("visitor-isp")).toBe("Example Telekom");
    expect(text("visitor-browser")).toBe("Chrome 131");
    expect(text("visitor-os")).toBe("Windows 10");
    expect(text("visitor-device")).toBe("Desktop");
    expect(text("visitor-language")).toContain("Turkish");
    // Navigation history: newest first, with times.
    const history = w.findAll('[data-testid="visitor-history-page"]');
    expect(history.map((h) => h.get("a").text())).toEqual(["Red shoes", "Shop"]);
    expect(history[0]!.get("time").attributes("datetime")).toBe("2026-11-24T17:03:00+00:00");
    // The time on site ticks while the visitor is there.
    vi.advanceTimersByTime(65_000);
    await flushPromises();
    expect(text("visitor-time-on-site")).toMatch(/^6 mins?, 5 secs?$/);
    w.unmount();
  });

  it("shows campaign parameters and, after leaving, when the visitor was last seen", async () => {
    vi.useFakeTimers({ now: NOW, toFake: ["Date", "setInterval", "clearInterval", "setTimeout", "clearTimeout"] });
    setup();
    handler = () => ({
      visits_count: 1,
      visits: [
        visit(1, {
          left_at: "2026-11-24T17:01:00+00:00",
          source_kind: "campaign",
          source: "newsletter",
          utm_source: "newsletter",
          utm_medium: "email",
          utm_campaign: "nov",
          time_on_site_seconds: 3720,
        }),
      ],
    });
    const w = mount(VisitorSection, { props: { contactId: CONTACT }, global: { plugins: [i18n] } });
    await flushPromises();
    expect(w.get('[data-testid="visitor-state"]').attributes("data-online")).toBe("false");
    expect(w.get('[data-testid="visitor-state"]').text()).toBe("Last seen 5 minutes ago");
    expect(w.get('[data-testid="visitor-source"]').text()).toBe("Campaign · newsletter");
    expect(w.get('[data-testid="visitor-utmSource"]').text()).toBe("newsletter");
    expect(w.get('[data-testid="visitor-utmMedium"]').text()).toBe("email");
    expect(w.get('[data-testid="visitor-utmCampaign"]').text()).toBe("nov");
    expect(w.get('[data-testid="visitor-time-on-site"]').text()).toMatch(/^1 hrs?, 2 mins?$/);
    vi.advanceTimersByTime(60_000);
    await flushPromises();
    expect(w.get('[data-testid="visitor-time-on-site"]').text()).toMatch(/^1 hrs?, 2 mins?$/); // gone: no ticking
    w.unmount();
  });

  it("reads the visits again every two minutes while the visitor is there (last seen stays fresh)", async () => {
    vi.useFakeTimers({ now: NOW, toFake: ["Date", "setInterval", "clearInterval", "setTimeout", "clearTimeout"] });
    setup();
    let leftAt: string | null = null;
    handler = () => ({ visits_count: 1, visits: [visit(1, { left_at: leftAt })] });
    const w = mount(VisitorSection, { props: { contactId: CONTACT }, global: { plugins: [i18n] } });
    await flushPromises();
    expect(calls).toHaveLength(1);
    leftAt = "2026-11-24T17:07:00+00:00";
    vi.advanceTimersByTime(120_000);
    await flushPromises();
    expect(calls).toHaveLength(2);
    expect(w.get('[data-testid="visitor-state"]').attributes("data-online")).toBe("false");
    vi.advanceTimersByTime(600_000);
    await flushPromises();
    expect(calls).toHaveLength(2); // gone: no more reading
    w.unmount();
  });

  it("renders nothing for a contact without website visits", async () => {
    setup();
    handler = () => ({ visits_count: 0, visits: [] });
    const w = mount(VisitorSection, { props: { contactId: CONTACT }, global: { plugins: [i18n] } });
    await flushPromises();
    expect(w.find('[data-testid="visitor-section"]').exists()).toBe(false);
  });

  it("follows the contact's visitor events and reads the visits again", async () => {
    vi.useFakeTimers({ now: NOW, toFake: ["Date", "setInterval", "clearInterval", "setTimeout", "clearTimeout"] });
    const stream = setup();
    let count = 3;
    handler = () => ({ visits_count: count, visits: [visit(1, { left_at: count === 3 ? null : "2026-11-24T17:06:00+00:00" })] });
    const w = mount(VisitorSection, { props: { contactId: CONTACT }, global: { plugins: [i18n] } });
    await flushPromises();
    // Another contact's visitor changes nothing.
    updated(stream, visit(9, { current_title: "Elsewhere" }));
    await flushPromises();
    expect(w.get('[data-testid="visitor-current-page"]').text()).toBe("Red shoes");
    // This contact's visitor moves to another page: shown at once.
    updated(stream, visit(1, { current_title: "Checkout", current_url: "https://shop.example.com/checkout", page_count: 3 }));
    await flushPromises();
    expect(w.get('[data-testid="visitor-current-page"]').text()).toBe("Checkout");
    expect(w.get('[data-testid="visitor-page-count"]').text()).toBe("3");
    // Then they leave: the panel reads the visits again and shows them gone.
    count = 4;
    vi.advanceTimersByTime(500);
    await flushPromises();
    stream.dispatch({ seq: null, type: "visitor.left", workspace_id: 1, inbox_id: 2, data: { visit_id: 1 } });
    vi.advanceTimersByTime(500);
    await flushPromises();
    expect(calls.filter((c) => c.endsWith("/visits")).length).toBeGreaterThanOrEqual(3);
    expect(w.get('[data-testid="visitor-state"]').attributes("data-online")).toBe("false");
    expect(w.get('[data-testid="visitor-visits-count"]').text()).toBe("4");
    w.unmount();
  });
});

describe("blocking", () => {
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: "/:view/:id?", component: { template: "<div />" } }] });

  async function mountPanel(blockedAt: string | null) {
    setup();
    let state: string | null = blockedAt;
    handler = (method, path) => {
      if (path.endsWith("/visits")) return { visits_count: 0, visits: [] };
      if (path.endsWith("/block")) {
        state = method === "POST" ? "2026-11-24T17:10:00+00:00" : null;
        return { ...detail(), blocked_at: state };
      }
      return detail({ blocked_at: state });
    };
    useConversations().upsert(conversation(5, { contact: { id: CONTACT, name: "Istanbul 701" } }));
    await router.push("/inbox/5");
    const panel = mount(ContactPanel, { props: { conversationId: 5 }, global: { plugins: [i18n, router] } });
    const header = mount(ConversationHeader, { props: { conversation: useConversations().get(5)! }, global: { plugins: [i18n, router] } });
    await flushPromises();
    return { panel, header };
  }

  it("blocks after a confirmation and shows the badge in the panel and the header", async () => {
    const { panel, header } = await mountPanel(null);
    expect(panel.find('[data-testid="contact-blocked"]').exists()).toBe(false);
    expect(header.find('[data-testid="header-blocked"]').exists()).toBe(false);
    await panel.get('[data-testid="contact-block"]').trigger("click");
    expect(calls.some((c) => c.startsWith("POST"))).toBe(false); // asks first
    expect(panel.text()).toContain("Block Istanbul 701? They will not be able to open chats.");
    await panel.get('[data-testid="contact-block-confirm"]').trigger("click");
    await flushPromises();
    expect(calls).toContain(`POST /api/v1/workspaces/1/contacts/${CONTACT}/block`);
    expect(panel.get('[data-testid="contact-blocked"]').text()).toContain("Blocked");
    expect(header.get('[data-testid="header-blocked"]').text()).toBe("Blocked");
  });

  it("unblocks a blocked contact", async () => {
    const { panel, header } = await mountPanel("2026-11-24T16:00:00+00:00");
    expect(panel.find('[data-testid="contact-blocked"]').exists()).toBe(true);
    expect(header.find('[data-testid="header-blocked"]').exists()).toBe(true);
    await panel.get('[data-testid="contact-unblock"]').trigger("click");
    await flushPromises();
    expect(calls).toContain(`DELETE /api/v1/workspaces/1/contacts/${CONTACT}/block`);
    expect(panel.find('[data-testid="contact-blocked"]').exists()).toBe(false);
    expect(header.find('[data-testid="header-blocked"]').exists()).toBe(false);
    expect(panel.find('[data-testid="contact-block"]').exists()).toBe(true);
  });

  it("a block by another agent (contact.blocked event) shows at once", async () => {
    const { header } = await mountPanel(null);
    useSession().stream!.dispatch({ seq: 3, type: "contact.blocked", workspace_id: 1, inbox_id: null, data: { contact_id: CONTACT } });
    await flushPromises();
    expect(header.find('[data-testid="header-blocked"]').exists()).toBe(true);
  });
});
