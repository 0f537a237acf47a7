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
});
