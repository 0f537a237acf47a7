// Email inboxes in administration: the addresses block (GET …/inboxes/{id}/email-addresses) with
// its Copy buttons and forwarding instruction, and the settings form generated from the email
// channel's JSON Schema with translated labels, and the IMAP/SMTP fields shown only for "own server".
import { flushPromises, mount } from "@vue/test-utils";
import { createPinia, setActivePinia } from "pinia";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

// openapi-fetch keeps the fetch it finds when the client is created: install a forwarding fake first.
const net = vi.hoisted(() => {
  const state = {
    status: 200,
    body: {} as unknown,
    // Other answers by "METHOD path" (the inboxes screen asks for several things).
    routes: {} as Record<string, unknown>,
    calls: [] as URL[],
  };
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = input instanceof Request ? input : new Request(String(input), init);
    const url = new URL(req.url, "http://localhost");
    state.calls.push(url);
    const key = `${req.method} ${url.pathname}`;
    const body = key in state.routes ? state.routes[key] : state.body;
    const status = key in state.routes || url.pathname.endsWith("/email-addresses") ? state.status : 200;
    return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
  }) as typeof fetch;
  return state;
});

import type { EmailAddresses as Addresses, JsonSchema } from "@/api/types";
import { i18n } from "@/i18n";
import { useSession } from "@/stores/session";
import EmailAddresses from "@/views/admin/EmailAddresses.vue";
import InboxesAdmin from "@/views/admin/InboxesAdmin.vue";
import SchemaForm from "@/views/admin/SchemaForm.vue";
import { fieldsFromSchema, initialValues, toSettings } from "@/views/admin/settingsSchema";

// What pydantic writes for the email channel (channels/email.py EmailSettings.model_json_schema()).
const EMAIL_SCHEMA = {
  additionalProperties: false,
  properties: {
    address_mode: {
      default: "hosted",
      description: "hosted: customers write to the hosted address; …",
      enum: ["hosted", "own_address", "own_server"],
      title: "Address Mode",
      type: "string",
    },
    local_part: { default: "support", description: "The name before the @ …", maxLength: 64, minLength: 1, title: "Local Part", type: "string" },
    from_name: { default: "", description: "Sender name of replies.", maxLength: 200, title: "From Name", type: "string" },
    own_address: {
      anyOf: [{ maxLength: 320, pattern: "^[^@\\s<>]+@[^@\\s<>]+\\.[^@\\s<>]+$", type: "string" }, { type: "null" }],
      default: null,
      description: "Your own address (own_address mode): replies are sent From it.",
      title: "Own Address",
      "x-shown-when": { address_mode: ["own_address", "own_server"] },
    },
    imap_host: {
      anyOf: [{ maxLength: 253, type: "string" }, { type: "null" }],
      default: null,
      description: "own_server mode: the IMAP server mail is fetched from.",
      title: "Imap Host",
      "x-shown-when": { address_mode: ["own_server"] },
    },
    imap_security: {
      default: "ssl",
      enum: ["ssl", "starttls", "none"],
      title: "Imap Security",
      type: "string",
      "x-shown-when": { address_mode: ["own_server"] },
    },
  },
  title: "EmailSettings",
  type: "object",
} as JsonSchema;

const HOSTED: Addresses = {
  address_mode: "hosted",
  hosted_address: "support@acme.mail.example.com",
  own_address: null,
  forward_to: null,
  reply_domain: "acme.mail.example.com",
  listener_enabled: true,
};

const writeText = vi.fn(async (_: string) => undefined);

beforeEach(() => {
  setActivePinia(createPinia());
  useSession().workspaceId = 3;
  i18n.global.locale.value = "en";
  net.status = 200;
  net.calls = [];
  net.routes = {};
  writeText.mockClear();
  Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
});
afterEach(() => vi.useRealTimers());

async function mountAddresses(body: unknown, status = 200) {
  net.body = body;
  net.status = status;
  const w = mount(EmailAddresses, { props: { inboxId: 12 }, global: { plugins: [i18n] } });
  await flushPromises();
  return w;
}

describe("the email addresses block", () => {
  it("asks the server for this inbox's addresses and shows the hosted one with Copy", async () => {
    const w = await mountAddresses(HOSTED);
    expect(net.calls.map((u) => u.pathname)).toEqual(["/api/v1/workspaces/3/inboxes/12/email-addresses"]);
    expect(w.get('[data-testid="email-hosted-address"]').text()).toBe("support@acme.mail.example.com");
    expect(w.get('[data-testid="email-hosted-address"]').attributes("dir")).toBe("ltr");
    expect(w.get('[data-testid="email-hosted-hint"]').text()).toContain("forward its mail here");
    expect(w.get('[data-testid="email-reply-domain"]').text()).toBe("reply+…@acme.mail.example.com");
    expect(w.find('[data-testid="email-forward-to"]').exists()).toBe(false);
    expect(w.find('[data-testid="email-no-listener"]').exists()).toBe(false);
    await w.get('[data-testid="email-copy-hosted"]').trigger("click");
    await flushPromises();
    expect(writeText).toHaveBeenCalledWith("support@acme.mail.example.com");
    expect(w.get('[data-testid="email-copy-hosted"]').text()).toBe("Copied");
  });

  it("in own-address mode, says to forward the own address to the hosted one", async () => {
    const w = await mountAddresses({
      ...HOSTED,
      address_mode: "own_address",
      own_address: "help@shop.example",
      forward_to: "support@acme.mail.example.com",
    });
    expect(w.get('[data-testid="email-own-address"]').text()).toBe("help@shop.example");
    expect(w.get('[data-testid="email-forward-hint"]').text()).toBe(
      "In your mail provider, forward every mail sent to help@shop.example to the address below. Replies go out from help@shop.example.",
    );
    expect(w.get('[data-testid="email-forward-to"]').text()).toBe("support@acme.mail.example.com");
    await w.get('[data-testid="email-copy-forward"]').trigger("click");
    expect(writeText).toHaveBeenCalledWith("support@acme.mail.example.com");
    expect(w.find('[data-testid="email-hosted-address"]').exists()).toBe(false);
  });

  it("says when the installation has no mail domain or no listener", async () => {
    const w = await mountAddresses({ ...HOSTED, hosted_address: null, reply_domain: null, listener_enabled: false });
    expect(w.get('[data-testid="email-no-domain"]').text()).toContain("FRONTDESK_MAIL_DOMAIN");
    expect(w.get('[data-testid="email-no-listener"]').text()).toContain("FRONTDESK_SMTP_LISTEN_PORT");
    expect(w.find('[data-testid="email-hosted-address"]').exists()).toBe(false);
    expect(w.find('[data-testid="email-reply-domain"]').exists()).toBe(false);
  });

  it("says when the addresses cannot be loaded", async () => {
    const w = await mountAddresses({ error: { code: "not_found", message: "no such inbox", field: "inbox_id" } }, 404);
    expect(w.get('[role="alert"]').text()).toBe("The addresses could not be loaded.");
  });

  it("is translated (Turkish, Persian)", async () => {
    i18n.global.locale.value = "tr";
    expect((await mountAddresses(HOSTED)).text()).toContain("Barındırılan adres");
    i18n.global.locale.value = "fa";
    expect((await mountAddresses(HOSTED)).text()).toContain("نشانی میزبانی‌شده");
  });
});

describe("the email channel's settings form", () => {
  const fields = fieldsFromSchema(EMAIL_SCHEMA);

  function mountForm(values = initialValues(fields)) {
    return mount(SchemaForm, {
      props: {
        fields,
        secretFields: [{ name: "reply_secret", description: "Signs the reply address" }],
        errors: {},
        editing: false,
        values,
        secrets: {},
        "onUpdate:values": () => undefined,
        "onUpdate:secrets": () => undefined,
      },
      global: { plugins: [i18n] },
    });
  }

  it("names the fields and choices in the agent's language", () => {
    const w = mountForm();
    const options = w.findAll('[data-testid="inbox-setting-address_mode"] option');
    expect(options.map((o) => o.attributes("value"))).toEqual(["hosted", "own_address", "own_server"]);
    expect(options.map((o) => o.text())).toEqual([
      "Hosted address (Frontdesk receives the mail)",
      "Your own address, forwarded to Frontdesk",
      "Your own mail server (IMAP and SMTP)",
    ]);
    expect(options.map((o) => (o.element as HTMLOptionElement).disabled)).toEqual([false, false, false]);
    for (const label of ["How customers write to you", "Name of the hosted address", "Sender name", "Your own address", "Reply address secret"])
      expect(w.text()).toContain(label);
    i18n.global.locale.value = "tr";
    expect(mountForm().find('[data-testid="inbox-setting-address_mode"] option').text()).toBe("Barındırılan adres (postayı Frontdesk alır)");
  });

  it("shows the IMAP fields and passwords only for the own mail server, and keeps what was typed", async () => {
    const secretFields = [
      { name: "reply_secret", description: null },
      { name: "imap_password", description: null, shown_when: { address_mode: ["own_server"] } },
    ];
    const w = mount(SchemaForm, {
      props: { fields, secretFields, errors: {}, editing: false, values: initialValues(fields), secrets: {}, "onUpdate:secrets": () => undefined },
      global: { plugins: [i18n] },
    });
    w.setProps({ "onUpdate:values": (v: Record<string, unknown>) => w.setProps({ values: v as never }) });
    const has = (id: string) => w.find(`[data-testid="${id}"]`).exists();
    expect([has("inbox-setting-imap_host"), has("inbox-secret-imap_password"), has("inbox-setting-own_address")]).toEqual([false, false, false]);
    await w.setProps({ values: { ...initialValues(fields), address_mode: "own_server", imap_host: "imap.shop.example" } });
    expect([has("inbox-setting-imap_host"), has("inbox-secret-imap_password"), has("inbox-setting-own_address")]).toEqual([true, true, true]);
    expect(w.text()).toContain("IMAP server");
    const security = w.findAll('[data-testid="inbox-setting-imap_security"] option').map((o) => o.text());
    expect(security).toEqual(["SSL/TLS", "STARTTLS", "None (trusted network only)"]);
    await w.setProps({ values: { ...initialValues(fields), address_mode: "own_address", imap_host: "imap.shop.example" } });
    expect([has("inbox-setting-imap_host"), has("inbox-setting-own_address")]).toEqual([false, true]);
    // Hidden is not dropped: the value still goes to the server, where it is kept for a later switch.
    const values = { ...initialValues(fields), address_mode: "own_address", own_address: "a@b.example", imap_host: "imap.shop.example" };
    expect(toSettings(fields, values).settings.imap_host).toBe("imap.shop.example");
  });

  it("sends the mode and the own address, and checks the address's form first", () => {
    const values = { ...initialValues(fields), address_mode: "own_address", own_address: "help@shop.example" };
    expect(toSettings(fields, values)).toEqual({
      settings: { address_mode: "own_address", local_part: "support", from_name: "", own_address: "help@shop.example", imap_host: null, imap_security: "ssl" },
      errors: {},
    });
    expect(toSettings(fields, { ...values, own_address: "not an address" }).errors).toEqual({ own_address: "pattern" });
    expect(toSettings(fields, initialValues(fields)).settings.own_address).toBeNull();
    // Clearing the sender name sends it empty (the server merges settings: left out would keep it).
    expect(toSettings(fields, initialValues(fields, { from_name: "Acme" })).settings.from_name).toBe("Acme");
    expect(toSettings(fields, { ...initialValues(fields, { from_name: "Acme" }), from_name: " " }).settings.from_name).toBe("");
  });
});

describe("the inboxes screen", () => {
  const inbox = { id: 12, name: "Support mail", channel_type: "email", uid: "e1", settings: { address_mode: "hosted", local_part: "support", from_name: "", own_address: null }, webhook_path: "/webhooks/email/e1", created_at: "2026-11-24T10:00:00Z", is_enabled: true };

  it("shows an email inbox's addresses (not a webhook) in its form, with own server selectable", async () => {
    net.body = HOSTED;
    net.routes = {
      "GET /api/v1/workspaces/3/inboxes": [inbox],
      "GET /api/v1/channel-types": [{ type: "email", settings_schema: EMAIL_SCHEMA, secret_fields: [{ name: "reply_secret", description: null }] }],
      "GET /api/v1/workspaces/3/inboxes/12": { ...inbox, member_ids: [] },
    };
    const w = mount(InboxesAdmin, { global: { plugins: [i18n] } });
    await flushPromises();
    expect(w.get('[data-testid="inbox-row"]').text()).toContain("Email");
    await w.get('[data-testid="inbox-edit"]').trigger("click");
    await flushPromises();
    const editor = w.get('[data-testid="inbox-editor"]');
    expect(editor.get('[data-testid="email-hosted-address"]').text()).toBe("support@acme.mail.example.com");
    expect(editor.text()).not.toContain("/webhooks/email/e1");
    const ownServer = editor.get('[data-testid="inbox-setting-address_mode"] option[value="own_server"]');
    expect((ownServer.element as HTMLOptionElement).disabled).toBe(false);
    expect(net.calls.some((u) => u.pathname === "/api/v1/workspaces/3/inboxes/12/email-addresses")).toBe(true);
  });
});
