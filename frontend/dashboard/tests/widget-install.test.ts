// Website inboxes in administration: the install snippet (origin and uid), identity verification
// (the example hash is the real HMAC-SHA256), and the settings form generated from the web
// channel's JSON Schema: colour picker, selects with named options, checkbox list.
import { createHmac } from "node:crypto";
import { flushPromises, mount } from "@vue/test-utils";
import { beforeEach, describe, expect, it } from "vitest";
import type { JsonSchema } from "@/api/types";
import { i18n } from "@/i18n";
import SchemaForm from "@/views/admin/SchemaForm.vue";
import { fieldsFromSchema, initialValues, toSettings } from "@/views/admin/settingsSchema";
import WidgetInstall from "@/views/admin/WidgetInstall.vue";
import { identityHash, identitySnippet, widgetSnippet } from "@/views/admin/widgetSnippet";

// What pydantic writes for the web channel (channels/web.py WebSettings.model_json_schema()).
const WEB_SCHEMA = {
  additionalProperties: false,
  properties: {
    site_url: { anyOf: [{ format: "uri", maxLength: 2083, minLength: 1, type: "string" }, { type: "null" }], default: null, description: "The site the widget is embedded in.", title: "Site Url" },
    colour: { default: "#1f6feb", description: "Widget colour, #rrggbb.", pattern: "^#[0-9a-fA-F]{6}$", title: "Colour", type: "string" },
    greeting: { default: "Hi! How can we help?", description: "First line the visitor sees.", maxLength: 500, title: "Greeting", type: "string" },
    invitation_text: { default: "", description: "Proactive invitation; empty: no invitation.", maxLength: 500, title: "Invitation Text", type: "string" },
    prechat_enabled: { default: false, description: "Ask for details before the first message.", title: "Prechat Enabled", type: "boolean" },
    prechat_fields: { description: "What the pre-chat form asks.", items: { enum: ["name", "email", "phone"], type: "string" }, maxItems: 3, title: "Prechat Fields", type: "array" },
    offline_behaviour: { default: "form", description: "With no agent online: an offline form, or hide the widget.", enum: ["form", "hide"], title: "Offline Behaviour", type: "string" },
    language: { default: "auto", description: "Widget language; auto follows the visitor's browser.", enum: ["auto", "en", "tr", "fa"], title: "Language", type: "string" },
  },
  title: "WebSettings",
  type: "object",
} as JsonSchema;

beforeEach(() => {
  i18n.global.locale.value = "en";
});

describe("the snippet", () => {
  it("loads widget.js from the dashboard's origin with the inbox uid", () => {
    expect(widgetSnippet("https://desk.example.com", "inb_abc123")).toBe(
      '<script async src="https://desk.example.com/widget.js" data-inbox="inb_abc123"></script>',
    );
    expect(widgetSnippet("https://desk.example.com/", "x")).toContain('src="https://desk.example.com/widget.js"');
  });

  it("cannot be broken out of by odd characters", () => {
    const s = widgetSnippet("https://d.test", 'a"><img src=x>');
    expect(s).toBe('<script async src="https://d.test/widget.js" data-inbox="a&quot;&gt;&lt;img src=x&gt;"></script>');
  });

  it("has a variant for logged-in customers", () => {
    const s = identitySnippet("https://d.test", "u1");
    expect(s).toContain('data-inbox="u1"');
    expect(s).toContain('data-user-id="USER_ID" data-user-hash="USER_HASH"');
  });

  it("computes the same hash as the server (hex HMAC-SHA256 of the user id)", async () => {
    const expected = createHmac("sha256", "s3cret-key").update("42").digest("hex");
    expect(await identityHash("s3cret-key", "42")).toBe(expected);
  });
});

describe("WidgetInstall", () => {
  it("shows the snippet with this dashboard's origin and the uid", () => {
    const w = mount(WidgetInstall, { props: { uid: "webuid9" }, global: { plugins: [i18n] } });
    expect(w.get('[data-testid="widget-snippet"]').text()).toBe(
      `<script async src="${location.origin}/widget.js" data-inbox="webuid9"></script>`,
    );
    expect(w.text()).toContain("Install the widget");
    // No secret here (only right after creation): a note instead, and no example hash.
    expect(w.find('[data-testid="widget-secret-note"]').exists()).toBe(true);
    expect(w.find('[data-testid="widget-example-hash"]').exists()).toBe(false);
  });

  it("right after creation, shows an example hash made with the new secret", async () => {
    const w = mount(WidgetInstall, { props: { uid: "webuid9", secret: "abc" }, global: { plugins: [i18n] } });
    await flushPromises();
    await new Promise((r) => setTimeout(r, 20));
    const example = w.get('[data-testid="widget-example-hash"]');
    expect(example.text()).toContain("user id 42");
    expect(example.get("code").text()).toBe(createHmac("sha256", "abc").update("42").digest("hex"));
    expect(w.find('[data-testid="widget-secret-note"]').exists()).toBe(false);
  });

  it("is translated", () => {
    i18n.global.locale.value = "fa";
    const w = mount(WidgetInstall, { props: { uid: "u" }, global: { plugins: [i18n] } });
    expect(w.text()).toContain("نصب ابزارک");
  });
});

describe("the web channel's settings form", () => {
  const fields = fieldsFromSchema(WEB_SCHEMA);
  const byName = Object.fromEntries(fields.map((f) => [f.name, f]));

  it("knows a colour and a list of choices", () => {
    expect(byName.colour?.kind).toBe("colour");
    expect(byName.prechat_fields).toMatchObject({ kind: "multi", options: ["name", "email", "phone"] });
    expect(byName.offline_behaviour?.kind).toBe("enum");
    expect(byName.language?.kind).toBe("enum");
  });

  it("renders a colour picker, named options and a checkbox list", () => {
    const values = initialValues(fields, { prechat_fields: ["email"], colour: "#ff8800" });
    const w = mount(SchemaForm, {
      props: { fields, secretFields: [], errors: {}, editing: false, values, secrets: {}, "onUpdate:values": () => undefined, "onUpdate:secrets": () => undefined },
      global: { plugins: [i18n] },
    });
    const picker = w.get('[data-testid="inbox-setting-colour"]');
    expect(picker.attributes("type")).toBe("color");
    expect((picker.element as HTMLInputElement).value).toBe("#ff8800");
    expect(w.findAll('[data-testid="inbox-setting-offline_behaviour"] option').map((o) => o.text())).toEqual(["Show an offline form", "Hide the widget"]);
    expect(w.findAll('[data-testid="inbox-setting-language"] option').map((o) => o.attributes("value"))).toEqual(["auto", "en", "tr", "fa"]);
    const boxes = w.findAll('[data-testid^="inbox-setting-prechat_fields-"]');
    expect(boxes.map((b) => (b.element as HTMLInputElement).checked)).toEqual([false, true, false]);
    expect(w.get('[data-testid="inbox-setting-prechat_fields"]').text()).toContain("Phone");
    expect(w.text()).toContain("Widget colour");
  });

  it("sends checked choices in their order, colours checked, an untouched list left to the server", async () => {
    const values = initialValues(fields);
    expect(values.prechat_fields).toEqual([]);
    expect(toSettings(fields, values).settings).not.toHaveProperty("prechat_fields");
    const w = mount(SchemaForm, {
      props: {
        fields,
        secretFields: [],
        errors: {},
        editing: false,
        values,
        secrets: {},
        "onUpdate:values": (v: typeof values) => w.setProps({ values: v }),
        "onUpdate:secrets": () => undefined,
      },
      global: { plugins: [i18n] },
    });
    await w.get('[data-testid="inbox-setting-prechat_fields-phone"]').setValue(true);
    await w.get('[data-testid="inbox-setting-prechat_fields-name"]').setValue(true);
    const now = w.props("values") as typeof values;
    expect(now.prechat_fields).toEqual(["phone", "name"]);
    const { settings, errors } = toSettings(fields, now);
    expect(errors).toEqual({});
    expect(settings).toMatchObject({ prechat_fields: ["name", "phone"], colour: "#1f6feb", offline_behaviour: "form", language: "auto", prechat_enabled: false });
    expect(toSettings(fields, { ...now, colour: "orange" }).errors).toEqual({ colour: "colour" });
    expect(toSettings(fields, { ...now, prechat_fields: ["fax"] }).errors).toEqual({ prechat_fields: "option" });
  });
});
