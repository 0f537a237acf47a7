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
    local_part: {
      default: "support",
      description: "The name before the @ …",
      maxLength: 64,
      minLength: 1,
      title: "Local Part",
      type: "string",
      "x-shown-when": { address_mode: ["hosted", "own_address"] },
    },
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
        secretFields: [{ name: "reply_secret", description: "Signs the reply address", generated: true, shown_when: { address_mode: ["hosted", "own_address"] } }],
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
    for (const label of ["How customers write to you", "Name of the hosted address", "Sender name", "Your own address", "Key for linking answers"])
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

describe("the email form shows only what applies to the chosen mode", () => {
  const fields = fieldsFromSchema(EMAIL_SCHEMA);
  // What GET /channel-types sends for email (channels/email.py): two keys Frontdesk makes, two passwords it cannot.
  const secretFields = [
    { name: "reply_secret", description: null, generated: true, shown_when: { address_mode: ["hosted", "own_address"] } },
    { name: "dkim_private_key", description: null, generated: true, shown_when: { address_mode: ["own_address"] } },
    { name: "imap_password", description: null, generated: false, shown_when: { address_mode: ["own_server"] } },
    { name: "smtp_password", description: null, generated: false, shown_when: { address_mode: ["own_server"] } },
  ];

  /** The form's words, less the mode choice's own option names (which name every mode). */
  function words(w: ReturnType<typeof mountMode>): string {
    return w.text().replace(w.get('[data-testid="inbox-setting-address_mode"]').text(), "");
  }

  function mountMode(address_mode: string, errors: Record<string, string> = {}, editing = false) {
    return mount(SchemaForm, {
      props: { fields, secretFields, errors, editing, values: { ...initialValues(fields), address_mode }, secrets: {}, "onUpdate:values": () => undefined, "onUpdate:secrets": () => undefined },
      global: { plugins: [i18n] },
    });
  }

  it("never offers to generate a mailbox password: only the keys Frontdesk makes", () => {
    const w = mountMode("own_server");
    for (const name of ["imap_password", "smtp_password"]) {
      const input = w.get(`[data-testid="inbox-secret-${name}"]`);
      expect(input.attributes("placeholder") ?? "").not.toContain("generate");
    }
    expect(w.text()).not.toContain("Leave empty to generate one");
    const hosted = mountMode("hosted");
    const key = hosted.get('[data-testid="inbox-generated-secrets"] [data-testid="inbox-secret-reply_secret"]');
    expect(key.attributes("placeholder")).toBe("Leave empty to generate one");
    expect(mountMode("hosted", {}, true).get('[data-testid="inbox-secret-reply_secret"]').attributes("placeholder")).toBe("Leave empty to keep the current value");
  });

  it("own mail server: no hosted address, no forwarding, no reply-address key", () => {
    const w = mountMode("own_server");
    const has = (id: string) => w.find(`[data-testid="${id}"]`).exists();
    expect([has("inbox-setting-local_part"), has("inbox-secret-reply_secret"), has("inbox-generated-secrets")]).toEqual([false, false, false]);
    expect([has("inbox-setting-own_address"), has("inbox-secret-imap_password")]).toEqual([true, true]);
    expect(words(w)).not.toMatch(/forward/i);
    expect(words(w)).not.toContain("hosted address");
    expect(words(w)).toContain("fetches new mail by IMAP");
  });

  it("explains the chosen mode only, in the agent's language", () => {
    expect(mountMode("hosted").text()).toContain("Nothing to set up");
    expect(mountMode("own_address").text()).toContain("forward its mail");
    i18n.global.locale.value = "fa";
    expect(words(mountMode("own_server"))).toContain("IMAP");
    expect(words(mountMode("own_server"))).not.toContain("میزبانی‌شده");
    i18n.global.locale.value = "tr";
    expect(mountMode("own_server").text()).toContain("yeni postaları IMAP ile alır");
    i18n.global.locale.value = "en";
  });

  it("shows a hidden field when the server found it wrong, so the error can be read", () => {
    const w = mountMode("own_server", { "settings.local_part": "another inbox of this workspace already uses 'support'" });
    expect(w.find('[data-testid="inbox-setting-local_part"]').exists()).toBe(true);
    expect(w.text()).toContain("already uses");
  });
});

describe("the addresses of an own-mail-server inbox", () => {
  it("show the own address and how mail arrives, not the hosted address or forwarding", async () => {
    net.body = { ...HOSTED, address_mode: "own_server", own_address: "help@shop.example" };
    net.status = 200;
    const w = mount(EmailAddresses, { props: { inboxId: 12 }, global: { plugins: [i18n] } });
    await flushPromises();
    expect(w.get('[data-testid="email-own-address"]').text()).toBe("help@shop.example");
    expect(w.get('[data-testid="email-own-server-hint"]').text()).toContain("IMAP server");
    for (const id of ["email-hosted-address", "email-forward-hint", "email-forward-to", "email-reply-domain", "email-no-listener"])
      expect(w.find(`[data-testid="${id}"]`).exists(), id).toBe(false);
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

  it("adds an inbox through the channel picker (keyboard too) and confirms the save", async () => {
    const created = { ...inbox, id: 13, name: "Orders", secrets: { reply_secret: "x", dkim_private_key: "k" } };
    net.body = HOSTED;
    net.routes = {
      "GET /api/v1/workspaces/3/inboxes": [inbox],
      "GET /api/v1/channel-types": [
        { type: "api", settings_schema: { type: "object", properties: {} }, secret_fields: [] },
        { type: "email", settings_schema: EMAIL_SCHEMA, secret_fields: [{ name: "reply_secret", description: null, generated: true }] },
      ],
      "POST /api/v1/workspaces/3/inboxes": created,
    };
    const w = mount(InboxesAdmin, { global: { plugins: [i18n] }, attachTo: document.body });
    await flushPromises();
    await w.get('[data-testid="inbox-add"]').trigger("click");
    const picker = w.get('[data-testid="inbox-type"]');
    // One card per channel, each a radio button with its name and one line; none chosen for you.
    const cards = picker.findAll("label");
    expect(cards.map((c) => c.attributes("data-testid"))).toEqual(["inbox-type-api", "inbox-type-email"]);
    expect(cards[1]!.text()).toContain("Receive and answer customer email.");
    expect(picker.findAll('input[type="radio"]').every((r) => !(r.element as HTMLInputElement).checked)).toBe(true);
    expect(w.find('[data-testid="inbox-name"]').exists()).toBe(false);
    // Save without a channel asks for one.
    await w.get('[data-testid="inbox-save"]').trigger("click");
    expect(picker.text()).toContain("Choose a channel");
    // The radio buttons are what the keyboard moves between; choosing one opens its form.
    await picker.get('input[value="email"]').setValue(true);
    expect(cards[1]!.classes()).toContain("chosen");
    await w.get('[data-testid="inbox-name"]').setValue("Orders");
    await w.get('[data-testid="inbox-save"]').trigger("click");
    await flushPromises();
    const posted = net.calls.find((u) => u.pathname === "/api/v1/workspaces/3/inboxes");
    expect(posted).toBeTruthy();
    expect(w.get('[data-testid="inbox-saved"]').text()).toBe("Saved “Orders”.");
    expect(w.get('[data-testid="inbox-saved"]').attributes("role")).toBe("status");
    // An email inbox's keys stay in Frontdesk: nothing to copy after creating it.
    expect(w.find('[data-testid="inbox-created-secret-reply_secret"]').exists()).toBe(false);
    w.unmount();
  });
});
