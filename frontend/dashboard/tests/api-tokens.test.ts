// Settings → API tokens: create with a name (shown once, with Copy), list the live ones with the
// day they were made, revoke after a second click; a blank name is refused before any request.
import { flushPromises, mount } from "@vue/test-utils";
import { createPinia, setActivePinia } from "pinia";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { applyLanguage, i18n } from "@/i18n";
import ApiTokensSettings from "@/views/settings/ApiTokensSettings.vue";
import { formatDateTime } from "@/composables/format";

const sendMock = vi.hoisted(() => vi.fn());
vi.mock("@/api/client", () => ({
  send: sendMock,
  setUnauthorizedHandler: () => undefined,
  ApiError: class extends Error {},
}));

interface Row {
  id: number;
  name: string;
  created_at: string;
  revoked_at: string | null;
}
let rows: Row[] = [];

beforeEach(() => {
  setActivePinia(createPinia());
  applyLanguage("en");
  rows = [
    { id: 1, name: "Old script", created_at: "2026-11-01T09:00:00+00:00", revoked_at: "2026-11-02T09:00:00+00:00" },
    { id: 2, name: "Order system", created_at: "2026-11-03T09:00:00+00:00", revoked_at: null },
  ];
  sendMock.mockReset();
  sendMock.mockImplementation(async (method: string, url: string, body?: { name: string }) => {
    if (method === "GET") return structuredClone(rows);
    if (method === "POST") {
      rows.push({ id: 3, name: body!.name, created_at: "2026-12-07T09:00:00+00:00", revoked_at: null });
      return { id: 3, name: body!.name, token: "fdt_secret123", created_at: "2026-12-07T09:00:00+00:00" };
    }
    if (method === "DELETE") {
      const id = Number(url.split("/").pop());
      rows = rows.map((r) => (r.id === id ? { ...r, revoked_at: "2026-12-07T10:00:00+00:00" } : r));
      return null;
    }
    throw new Error(`unexpected ${method} ${url}`);
  });
});

async function mountIt() {
  const w = mount(ApiTokensSettings, { global: { plugins: [i18n] } });
  await flushPromises();
  return w;
}

describe("API tokens", () => {
  it("lists only the live tokens, with the day each was made", async () => {
    const w = await mountIt();
    const list = w.findAll('[data-testid="token-row"]');
    expect(list.map((r) => r.attributes("data-id"))).toEqual(["2"]);
    expect(list[0]!.text()).toContain("Order system");
    expect(list[0]!.text()).toContain(formatDateTime("2026-11-03T09:00:00+00:00"));
  });

  it("creates a token and shows it once, with Copy", async () => {
    const writeText = vi.fn().mockResolvedValue(undefined);
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    const w = await mountIt();
    await w.get('[data-testid="token-name"]').setValue("  CRM  ");
    await w.get("form").trigger("submit");
    await flushPromises();
    expect(sendMock).toHaveBeenCalledWith("POST", "/api/v1/me/tokens", { name: "CRM" });
    expect(w.get('[data-testid="token-value"]').text()).toBe("fdt_secret123");
    await w.get('[data-testid="token-copy"]').trigger("click");
    await flushPromises();
    expect(writeText).toHaveBeenCalledWith("fdt_secret123");
    expect(w.get('[data-testid="token-copy"]').text()).toBe("Copied");
    expect(w.findAll('[data-testid="token-row"]')).toHaveLength(2);
    await w.get('[data-testid="token-created-close"]').trigger("click");
    expect(w.find('[data-testid="token-value"]').exists()).toBe(false);
  });

  it("refuses a blank name without asking the server", async () => {
    const w = await mountIt();
    await w.get('[data-testid="token-name"]').setValue("   ");
    await w.get("form").trigger("submit");
    await flushPromises();
    expect(w.get('[data-testid="token-name-error"]').text()).toBe("This field is required.");
    expect(sendMock.mock.calls.filter(([m]) => m === "POST")).toHaveLength(0);
  });

  it("revokes a token only after confirming", async () => {
    const w = await mountIt();
    await w.get('[data-testid="token-revoke"]').trigger("click");
    expect(sendMock.mock.calls.filter(([m]) => m === "DELETE")).toHaveLength(0);
    expect(w.text()).toContain("Revoke “Order system”?");
    await w.get('[data-testid="token-revoke-confirm"]').trigger("click");
    await flushPromises();
    expect(sendMock).toHaveBeenCalledWith("DELETE", "/api/v1/me/tokens/2");
    expect(w.findAll('[data-testid="token-row"]')).toHaveLength(0);
    expect(w.get('[data-testid="token-revoked"]').text()).toContain("no longer works");
    expect(w.find('[data-testid="tokens-empty"]').exists()).toBe(true);
  });
});
