// The inbox settings form generated from a channel's JSON Schema.
import { mount } from "@vue/test-utils";
import { describe, expect, it } from "vitest";
import type { JsonSchema } from "@/api/types";
import { i18n } from "@/i18n";
import SchemaForm from "@/views/admin/SchemaForm.vue";
import { fieldsFromSchema, initialValues, toSettings } from "@/views/admin/settingsSchema";

// What pydantic writes for the API channel (channels/api.py ApiSettings), plus a few more kinds.
const SCHEMA: JsonSchema = {
  additionalProperties: false,
  $defs: { Mode: { enum: ["fast", "safe"], title: "Mode", type: "string" } },
  properties: {
    webhook_url: {
      anyOf: [{ format: "uri", maxLength: 2083, minLength: 1, type: "string" }, { type: "null" }],
      default: null,
      description: "Where replies are POSTed.",
      title: "Webhook Url",
    },
    lock_to_single_conversation: { default: true, description: "Reopen the last one.", title: "Lock To Single Conversation", type: "boolean" },
    api_key: { title: "Api Key", type: "string", description: "The provider's key" },
    retries: { title: "Retries", type: "integer", minimum: 0, maximum: 10, default: 3 },
    ratio: { type: ["number", "null"] },
    mode: { $ref: "#/$defs/Mode", default: "safe" },
    extra: { type: "object", title: "Extra" },
  },
  required: ["api_key"],
  title: "Settings",
  type: "object",
} as JsonSchema;

describe("fieldsFromSchema", () => {
  const fields = fieldsFromSchema(SCHEMA);
  const byName = Object.fromEntries(fields.map((f) => [f.name, f]));

  it("reads every property in order with its kind", () => {
    expect(fields.map((f) => [f.name, f.kind])).toEqual([
      ["webhook_url", "string"],
      ["lock_to_single_conversation", "boolean"],
      ["api_key", "string"],
      ["retries", "integer"],
      ["ratio", "number"],
      ["mode", "enum"],
      ["extra", "json"],
    ]);
  });

  it("keeps titles, descriptions, required marks, nullability, formats and options", () => {
    expect(byName.webhook_url).toMatchObject({ title: "Webhook Url", description: "Where replies are POSTed.", required: false, nullable: true, format: "uri" });
    expect(byName.api_key).toMatchObject({ required: true, nullable: false, description: "The provider's key" });
    expect(byName.ratio).toMatchObject({ nullable: true, title: "Ratio" });
    expect(byName.mode).toMatchObject({ options: ["fast", "safe"], default: "safe", title: "Mode" });
    expect(byName.retries).toMatchObject({ minimum: 0, maximum: 10 });
  });

  it("handles an empty or missing schema", () => {
    expect(fieldsFromSchema(undefined)).toEqual([]);
    expect(fieldsFromSchema({ type: "object" })).toEqual([]);
  });
});

describe("values and settings", () => {
  const fields = fieldsFromSchema(SCHEMA);

  it("starts from the defaults, or from the current settings", () => {
    expect(initialValues(fields)).toEqual({ webhook_url: "", lock_to_single_conversation: true, api_key: "", retries: "3", ratio: "", mode: "safe", extra: "" });
    expect(initialValues(fields, { webhook_url: "https://x.test/hook", lock_to_single_conversation: false, extra: { a: 1 } })).toMatchObject({
      webhook_url: "https://x.test/hook",
      lock_to_single_conversation: false,
      extra: '{\n  "a": 1\n}',
    });
  });

  it("turns the form back into typed settings", () => {
    const values = { ...initialValues(fields), api_key: " k1 ", retries: "5", ratio: "0.5", extra: '{"a": 2}', lock_to_single_conversation: false };
    const { settings, errors } = toSettings(fields, values);
    expect(errors).toEqual({});
    expect(settings).toEqual({ webhook_url: null, lock_to_single_conversation: false, api_key: "k1", retries: 5, ratio: 0.5, mode: "safe", extra: { a: 2 } });
  });

  it("names each wrong field", () => {
    const values = { ...initialValues(fields), api_key: "", retries: "2.5", ratio: "abc", extra: "{", mode: "slow" };
    expect(toSettings(fields, values).errors).toEqual({ api_key: "required", retries: "integer", ratio: "number", extra: "json", mode: "option" });
    expect(toSettings(fields, { ...values, api_key: "k", retries: "11", ratio: "", extra: "", mode: "fast" }).errors).toEqual({ retries: "range" });
  });
});

describe("the API channel's reply window setting (decision 0039)", () => {
  // Exactly what pydantic writes for ApiSettings.reply_window_hours.
  const schema = {
    type: "object",
    properties: {
      reply_window_hours: {
        anyOf: [{ maximum: 720, minimum: 1, type: "integer" }, { type: "null" }],
        default: null,
        description: "Replies are allowed this many hours after the customer's last message (its timestamp); empty: no window, replies are always allowed.",
        title: "Reply Window Hours",
      },
    },
  } as JsonSchema;

  it("is an optional whole number of hours, 1 to 720; empty means no window", () => {
    const fields = fieldsFromSchema(schema);
    expect(fields[0]).toMatchObject({ name: "reply_window_hours", kind: "integer", nullable: true, minimum: 1, maximum: 720, title: "Reply Window Hours" });
    expect(toSettings(fields, { reply_window_hours: "" }).settings).toEqual({ reply_window_hours: null });
    expect(toSettings(fields, { reply_window_hours: "24" }).settings).toEqual({ reply_window_hours: 24 });
    expect(toSettings(fields, { reply_window_hours: "721" }).errors).toEqual({ reply_window_hours: "range" });
    expect(toSettings(fields, { reply_window_hours: "0" }).errors).toEqual({ reply_window_hours: "range" });
  });
});

describe("SchemaForm", () => {
  it("renders one control per field, secrets as write-only password inputs", async () => {
    const fields = fieldsFromSchema(SCHEMA);
    const values = initialValues(fields);
    const secrets: Record<string, string> = {};
    const wrapper = mount(SchemaForm, {
      props: {
        fields,
        secretFields: [{ name: "hmac_secret", description: "Signs webhooks" }],
        errors: { "settings.api_key": "This field is required." },
        editing: true,
        values,
        secrets,
        "onUpdate:values": () => undefined,
        "onUpdate:secrets": () => undefined,
      },
      global: { plugins: [i18n] },
    });
    expect(wrapper.find('[data-testid="inbox-setting-webhook_url"]').attributes("type")).toBe("url");
    expect(wrapper.find('[data-testid="inbox-setting-lock_to_single_conversation"]').attributes("type")).toBe("checkbox");
    expect(wrapper.find('[data-testid="inbox-setting-retries"]').attributes("type")).toBe("number");
    expect(wrapper.findAll('[data-testid="inbox-setting-mode"] option').map((o) => o.text())).toEqual(["fast", "safe"]);
    expect(wrapper.find('[data-testid="inbox-setting-extra"]').element.tagName).toBe("TEXTAREA");
    const secret = wrapper.find('[data-testid="inbox-secret-hmac_secret"]');
    expect(secret.attributes("type")).toBe("password");
    expect((secret.element as HTMLInputElement).value).toBe("");
    expect(wrapper.text()).toContain("This field is required.");
    expect(wrapper.findAll(".req")).toHaveLength(1); // only api_key is required
    await wrapper.find('[data-testid="inbox-setting-api_key"]').setValue("abc");
    expect(values.api_key).toBe("abc");
    await secret.setValue("s3cret");
    expect(secrets.hmac_secret).toBe("s3cret");
    // A number typed into a number input reaches the settings (Vue's v-model hands back a number).
    await wrapper.find('[data-testid="inbox-setting-retries"]').setValue("7");
    expect(typeof values.retries).toBe("number");
    expect(toSettings(fields, { ...values, api_key: "k" }).settings.retries).toBe(7);
  });

  it("edits a per-language text (web greeting_translations) as rows of code and text", async () => {
    // What pydantic writes for channels/web.py greeting_translations.
    const schema = {
      properties: {
        greeting: { default: "Hi!", maxLength: 500, title: "Greeting", type: "string" },
        greeting_translations: {
          default: {},
          maxProperties: 40,
          patternProperties: { "^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$": { maxLength: 10, type: "string" } },
          title: "Greeting Translations",
          type: "object",
          "x-per-language": true,
        },
      },
      type: "object",
    } as JsonSchema;
    const fields = fieldsFromSchema(schema);
    expect(fields[1]).toMatchObject({ kind: "languages", maxLength: 10, pattern: "^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$" });
    // Settings saved before the field existed have none: no rows, and {} is sent (clearing nothing).
    let values = initialValues(fields, { greeting: "Hello" });
    expect(values.greeting_translations).toEqual([]);
    expect(toSettings(fields, values).settings).toEqual({ greeting: "Hello", greeting_translations: {} });
    values = initialValues(fields, { greeting: "Hello", greeting_translations: { tr: "Merhaba" } });
    const wrapper = mount(SchemaForm, {
      props: { fields, secretFields: [], errors: {}, editing: true, values, secrets: {}, "onUpdate:values": (v: typeof values) => (values = v), "onUpdate:secrets": () => undefined },
      global: { plugins: [i18n] },
    });
    expect(wrapper.findAll('[data-testid="language-row"]')).toHaveLength(1);
    expect((wrapper.get('[data-testid="language-text"]').element as HTMLInputElement).value).toBe("Merhaba");
    await wrapper.get('[data-testid="language-add"]').trigger("click");
    await wrapper.setProps({ values });
    await wrapper.findAll('[data-testid="language-code"]')[1]!.setValue("fa");
    await wrapper.setProps({ values });
    await wrapper.findAll('[data-testid="language-text"]')[1]!.setValue("سلام");
    expect(toSettings(fields, values).settings.greeting_translations).toEqual({ tr: "Merhaba", fa: "سلام" });
    const bad = (rows: { lang: string; text: string }[]) => toSettings(fields, { ...values, greeting_translations: rows }).errors.greeting_translations;
    expect(bad([{ lang: "not a code", text: "x" }])).toBe("pattern");
    expect(bad([{ lang: "", text: "x" }])).toBe("pattern");
    expect(bad([{ lang: "tr", text: "x" }, { lang: "TR", text: "y" }])).toBe("duplicateLanguage");
    expect(bad([{ lang: "tr", text: "x".repeat(11) }])).toBe("tooLong");
    expect(bad([{ lang: "", text: "" }])).toBeUndefined();
    await wrapper.setProps({ values });
    await wrapper.findAll('[data-testid="language-remove"]')[0]!.trigger("click");
    expect(toSettings(fields, values).settings.greeting_translations).toEqual({ fa: "سلام" });
  });
});
