// Test connection and entry points of a saved inbox, for every channel (InboxConnectionCheck):
// the result in the admin's language with the provider's words, and each entry point's QR code.
import { flushPromises, mount } from "@vue/test-utils";
import { createPinia, setActivePinia } from "pinia";
import { beforeEach, describe, expect, it, vi } from "vitest";

// openapi-fetch keeps the fetch it finds when the client is created: install a forwarding fake first.
const net = vi.hoisted(() => {
  const state = {
    routes: {} as Record<string, { status: number; body: unknown }>,
    calls: [] as { method: string; path: string }[],
  };
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = input instanceof Request ? input : new Request(String(input), init);
    const url = new URL(req.url, "http://localhost");
    state.calls.push({ method: req.method, path: url.pathname });
    const answer = state.routes[`${req.method} ${url.pathname}`] ?? { status: 404, body: { error: { code: "not_found", message: "no" } } };
    return new Response(JSON.stringify(answer.body), { status: answer.status, headers: { "Content-Type": "application/json" } });
  }) as typeof fetch;
  return state;
});

import { i18n } from "@/i18n";
import { useSession } from "@/stores/session";
import InboxConnectionCheck from "@/views/admin/InboxConnectionCheck.vue";

const BASE = "/api/v1/workspaces/3/inboxes/12";

beforeEach(() => {
  setActivePinia(createPinia());
  useSession().workspaceId = 3;
  i18n.global.locale.value = "en";
  net.routes = { [`GET ${BASE}/entry-points`]: { status: 200, body: [] } };
  net.calls = [];
});

async function mounted(checks = true) {
  const w = mount(InboxConnectionCheck, { props: { inboxId: 12, checks }, global: { plugins: [i18n] } });
  await flushPromises();
  return w;
}

describe("Test connection of a saved inbox", () => {
  it("calls the inbox's check and shows success with the provider's words", async () => {
    net.routes[`POST ${BASE}/check-connection`] = { status: 200, body: { ok: true, detail: "the webhook receiver answered HTTP 200", code: null } };
    const w = await mounted();
    await w.get('[data-testid="test-connection"]').trigger("click");
    await flushPromises();
    expect(net.calls.filter((c) => c.method === "POST").map((c) => c.path)).toEqual([`${BASE}/check-connection`]);
    const result = w.get('[data-testid="test-connection-result"]');
    expect(result.attributes("data-ok")).toBe("true");
    expect(result.text()).toContain("The connection works.");
    expect(w.get('[data-testid="test-connection-detail"]').text()).toBe("the webhook receiver answered HTTP 200");
  });

  it("names a failure in the admin's language, Persian included, beside the provider's words", async () => {
    net.routes[`POST ${BASE}/check-connection`] = { status: 200, body: { ok: false, detail: "webhook receiver answered HTTP 401: bad signature", code: "auth_failed" } };
    i18n.global.locale.value = "fa";
    const w = await mounted();
    await w.get('[data-testid="test-connection"]').trigger("click");
    await flushPromises();
    const result = w.get('[data-testid="test-connection-result"]');
    expect(result.attributes("data-ok")).toBe("false");
    expect(result.text()).toContain("ارائه‌دهنده اعتبارنامه‌ها را نپذیرفت.");
    expect(w.get('[data-testid="test-connection-detail"]').text()).toContain("bad signature");
  });

  it("shows the server's refusal (a member is not an administrator)", async () => {
    net.routes[`POST ${BASE}/check-connection`] = { status: 403, body: { error: { code: "forbidden", message: "only an administrator of this workspace may do this" } } };
    const w = await mounted();
    await w.get('[data-testid="test-connection"]').trigger("click");
    await flushPromises();
    expect(w.get('[data-testid="test-connection-error"]').text()).toContain("only an administrator");
    expect(w.find('[data-testid="test-connection-result"]').exists()).toBe(false);
  });

  it("offers no test for a channel with no provider to call, and shows nothing at all without entry points", async () => {
    const w = await mounted(false);
    expect(w.find('[data-testid="test-connection"]').exists()).toBe(false);
    expect(w.find('[data-testid="connection-check"]').exists()).toBe(false);
    expect(net.calls.filter((c) => c.method === "POST")).toEqual([]);
  });

  it("lists entry points with their QR codes, and nothing when there are none", async () => {
    expect((await mounted()).find('[data-testid="entry-points"]').exists()).toBe(false);
    net.routes[`GET ${BASE}/entry-points`] = {
      status: 200,
      body: [{ kind: "deep_link", label: "Open the chat", url: "https://t.example/bot?start=abc", qr_svg_url: `${BASE}/entry-points/0/qr.svg`, qr_png_url: `${BASE}/entry-points/0/qr.png` }],
    };
    const w = await mounted();
    const block = w.get('[data-testid="entry-points"]');
    expect(block.get("img").attributes("src")).toBe(`${BASE}/entry-points/0/qr.svg`);
    expect(block.get("img").attributes("alt")).toBe("QR code for Open the chat");
    expect(block.text()).toContain("https://t.example/bot?start=abc");
  });
});
