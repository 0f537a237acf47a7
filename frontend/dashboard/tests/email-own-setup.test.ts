// The two setup blocks of the email channel's other ways (E2, E3): "Your mail server" (Test
// connection with the form's settings; import status) and the own address's DNS records (the
// records, Check DNS with translated reasons, DKIM key creation).
import { flushPromises, mount } from "@vue/test-utils";
import { createPinia, setActivePinia } from "pinia";
import { beforeEach, describe, expect, it, vi } from "vitest";

// openapi-fetch keeps the fetch it finds when the client is created: install a forwarding fake first.
const net = vi.hoisted(() => {
  const state = {
    routes: {} as Record<string, { status: number; body: unknown }>,
    calls: [] as { method: string; path: string; body: unknown }[],
  };
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = input instanceof Request ? input : new Request(String(input), init);
    const url = new URL(req.url, "http://localhost");
    const text = await req.text();
    state.calls.push({ method: req.method, path: url.pathname, body: text ? JSON.parse(text) : null });
    const answer = state.routes[`${req.method} ${url.pathname}`] ?? { status: 404, body: { error: { code: "not_found", message: "no" } } };
    return new Response(JSON.stringify(answer.body), { status: answer.status, headers: { "Content-Type": "application/json" } });
  }) as typeof fetch;
  return state;
});

import { i18n } from "@/i18n";
import { useSession } from "@/stores/session";
import EmailDnsRecords from "@/views/admin/EmailDnsRecords.vue";
import EmailServerCheck from "@/views/admin/EmailServerCheck.vue";

const TEST = "/api/v1/workspaces/3/email-connection-test";
const STATUS = "/api/v1/workspaces/3/inboxes/12/imap-status";
const DNS = "/api/v1/workspaces/3/inboxes/12/email-dns";

beforeEach(() => {
  setActivePinia(createPinia());
  useSession().workspaceId = 3;
  i18n.global.locale.value = "en";
  net.routes = {};
  net.calls = [];
});

const SETTINGS = { address_mode: "own_server", own_address: "help@shop.example", imap_host: "imap.gmail.com", smtp_host: "smtp.gmail.com" };

describe("Test connection of your own mail server", () => {
  it("sends the form's settings and typed passwords, and shows each stage with the failing one's words and advice", async () => {
    net.routes[`POST ${TEST}`] = {
      status: 200,
      body: {
        imap: { ok: false, stage: "login", detail: "[AUTHENTICATIONFAILED] Invalid credentials", passed: ["dns", "connect", "tls"], advice: "gmail_app_password" },
        smtp: { ok: true, stage: null, detail: "", passed: ["dns", "connect", "tls", "login"], advice: null },
      },
    };
    const w = mount(EmailServerCheck, {
      props: { inboxId: null, settings: SETTINGS, secrets: { imap_password: "pw", smtp_password: " ", reply_secret: "x" } },
      global: { plugins: [i18n] },
    });
    await w.get('[data-testid="email-test-connection"]').trigger("click");
    await flushPromises();
    const call = net.calls.find((c) => c.path === TEST);
    // Only the passwords travel, and an empty one is left out (the saved one is then used).
    expect(call?.body).toEqual({ settings: SETTINGS, secrets: { imap_password: "pw" }, inbox_id: null });
    const imap = w.get('[data-testid="email-test-imap"]');
    expect(imap.attributes("data-ok")).toBe("false");
    expect(imap.findAll("li").map((li) => li.attributes("data-state"))).toEqual(["ok", "ok", "ok", "failed", "skipped"]);
    expect(imap.text()).toContain("Failed at: Sign-in");
    expect(w.get('[data-testid="email-test-imap-detail"]').text()).toBe("[AUTHENTICATIONFAILED] Invalid credentials");
    expect(w.get('[data-testid="email-test-imap-advice"]').text()).toContain("app password");
    const smtp = w.get('[data-testid="email-test-smtp"]');
    expect(smtp.findAll("li").map((li) => li.attributes("data-stage"))).toEqual(["dns", "connect", "tls", "login"]);
    expect(smtp.text()).toContain("Everything works.");
    // No inbox yet: no import status is asked for.
    expect(net.calls.some((c) => c.path.endsWith("/imap-status"))).toBe(false);
  });

  it("asks to fix the form instead of testing invalid settings, in the agent's language", async () => {
    i18n.global.locale.value = "tr";
    const w = mount(EmailServerCheck, { props: { inboxId: 12, settings: null, secrets: {} }, global: { plugins: [i18n] } });
    await w.get('[data-testid="email-test-connection"]').trigger("click");
    await flushPromises();
    expect(w.get('[data-testid="email-test-error"]').text()).toBe("Önce yukarıdaki ayarları düzeltin.");
    expect(net.calls.some((c) => c.path === TEST)).toBe(false);
  });

  it("shows a saved inbox's import: when it was checked, how many came in, and the last error's stage", async () => {
    net.routes[`GET ${STATUS}`] = {
      status: 200,
      body: {
        folder: "INBOX",
        uidvalidity: 7,
        last_uid: 40,
        imported_count: 1234,
        last_checked_at: new Date(Date.now() - 120_000).toISOString(),
        idle_supported: true,
        error: { stage: "login", detail: "Authentication failed." },
      },
    };
    const w = mount(EmailServerCheck, { props: { inboxId: 12, settings: SETTINGS, secrets: {} }, global: { plugins: [i18n] } });
    await flushPromises();
    const status = w.get('[data-testid="email-imap-status"]');
    expect(status.text()).toContain("1,234 messages imported");
    expect(status.text()).toContain("IDLE");
    expect(w.get('[data-testid="email-imap-error"]').text()).toContain("Failed at: Sign-in");
    expect(w.get('[data-testid="email-imap-error"]').text()).toContain("Authentication failed.");
  });
});

const RECORDS = {
  own_address: "help@shop.example",
  domain: "shop.example",
  dkim_selector: "frontdesk",
  dkim_key_present: true,
  records: [
    { kind: "forward", name: "help@shop.example", type: "FORWARD", value: "support@acme.mail.example.com", purpose: "", group: "receive", required: false },
    { kind: "mx", name: "shop.example", type: "MX", value: "mail.example.com", purpose: "", group: "receive", required: false },
    { kind: "spf", name: "shop.example", type: "TXT", value: "v=spf1 include:_spf.mail.example.com ~all", purpose: "", group: null, required: true },
    { kind: "dkim", name: "frontdesk._domainkey.shop.example", type: "TXT", value: "v=DKIM1; k=rsa; p=MIIB", purpose: "", group: null, required: true },
    { kind: "dmarc", name: "_dmarc.shop.example", type: "TXT", value: "v=DMARC1; p=none", purpose: "", group: null, required: false },
  ],
};

function checked(kind: string, status: string, code: string, found: string[] = []) {
  const record = RECORDS.records.find((r) => r.kind === kind);
  return { ...record, status, code, detail: `English detail for ${code}`, found };
}

describe("the own address's DNS records", () => {
  it("lists the records to add, checks them and says which are right, missing or wrong", async () => {
    net.routes[`GET ${DNS}`] = { status: 200, body: RECORDS };
    net.routes[`POST ${DNS}/check`] = {
      status: 200,
      body: {
        domain: "shop.example",
        sending_ready: false,
        records: [
          checked("forward", "manual", "dns_forward_manual"),
          checked("mx", "wrong", "dns_mx_elsewhere", ["mx.other.example"]),
          checked("spf", "wrong", "dns_spf_no_include", ["v=spf1 -all"]),
          checked("dkim", "ok", "dns_dkim_ok", ["v=DKIM1; k=rsa; p=MIIB"]),
          checked("dmarc", "missing", "dns_new_code_from_a_newer_server"),
        ],
      },
    };
    const w = mount(EmailDnsRecords, { props: { inboxId: 12 }, global: { plugins: [i18n] } });
    await flushPromises();
    expect(w.text()).toContain("DNS records for shop.example");
    const rows = w.findAll('[data-testid="email-dns-record"]');
    expect(rows.map((r) => r.attributes("data-kind"))).toEqual(["forward", "mx", "spf", "dkim", "dmarc"]);
    expect(rows[2]?.text()).toContain("v=spf1 include:_spf.mail.example.com ~all");
    expect(rows[0]?.text()).toContain("one of the two");
    await w.get('[data-testid="email-dns-check"]').trigger("click");
    await flushPromises();
    const after = w.findAll('[data-testid="email-dns-record"]');
    expect(after.map((r) => r.attributes("data-status"))).toEqual(["manual", "wrong", "wrong", "ok", "missing"]);
    expect(after[2]?.get('[data-testid="email-dns-reason"]').text()).toBe("The SPF record does not include Frontdesk: add the include shown to it.");
    expect(after[2]?.text()).toContain("v=spf1 -all");
    // A code this dashboard does not know yet falls back to the server's words.
    expect(after[4]?.get('[data-testid="email-dns-reason"]').text()).toBe("English detail for dns_new_code_from_a_newer_server");
    expect(w.get('[data-testid="email-dns-ready"]').text()).toContain("not ready");
  });

  it("offers to create a DKIM key when the inbox has none, in Persian too", async () => {
    i18n.global.locale.value = "fa";
    net.routes[`GET ${DNS}`] = { status: 200, body: { ...RECORDS, dkim_key_present: false, records: RECORDS.records.filter((r) => r.kind !== "dkim") } };
    net.routes[`POST ${DNS}/dkim-key`] = { status: 200, body: RECORDS };
    const w = mount(EmailDnsRecords, { props: { inboxId: 12 }, global: { plugins: [i18n] } });
    await flushPromises();
    expect(w.get('[data-testid="email-dns-no-key"]').text()).toContain("کلید DKIM");
    await w.get('[data-testid="email-dns-make-key"]').trigger("click");
    await flushPromises();
    expect(net.calls.map((c) => `${c.method} ${c.path}`)).toContain(`POST ${DNS}/dkim-key`);
    expect(w.find('[data-testid="email-dns-no-key"]').exists()).toBe(false);
    expect(w.findAll('[data-testid="email-dns-record"]').map((r) => r.attributes("data-kind"))).toContain("dkim");
  });

  it("shows the server's refusal (not an own-address inbox)", async () => {
    net.routes[`GET ${DNS}`] = { status: 409, body: { error: { code: "not_own_address", message: "DNS records are for inboxes in own_address mode", field: "settings.address_mode" } } };
    const w = mount(EmailDnsRecords, { props: { inboxId: 12 }, global: { plugins: [i18n] } });
    await flushPromises();
    expect(w.get('[data-testid="email-dns-error"]').text()).toContain("own_address mode");
  });
});
