// The email template editor (Administration → Inboxes → an email inbox → Email template): it loads
// the saved template, asks the server's renderer for a preview of the unsaved form (debounced),
// shows a 422's field error beside its field, uploads the header image, and saves only the
// editable fields.
import { flushPromises, mount } from "@vue/test-utils";
import { createPinia, setActivePinia } from "pinia";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { defineComponent, h } from "vue";
import { RouterView, createMemoryHistory, createRouter } from "vue-router";

// A fake server behind fetch: answers by "METHOD path", and records every request with its body.
const net = vi.hoisted(() => {
  const state = {
    routes: {} as Record<string, { status: number; body: unknown }>,
    calls: [] as { method: string; path: string; body: unknown }[],
  };
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = input instanceof Request ? input : new Request(String(input), init);
    const url = new URL(req.url, "http://localhost");
    // The typed client sends a Request; uploads go through fetch(url, init) with FormData.
    const text = init?.body instanceof FormData ? "" : await req.clone().text();
    const body = init?.body instanceof FormData ? init.body : text ? (JSON.parse(text) as unknown) : null;
    state.calls.push({ method: req.method, path: url.pathname, body });
    const answer = state.routes[`${req.method} ${url.pathname}`] ?? { status: 404, body: { error: { code: "not_found", message: "not found", field: null } } };
    return new Response(JSON.stringify(answer.body), { status: answer.status, headers: { "Content-Type": "application/json" } });
  }) as typeof fetch;
  return state;
});

import { i18n } from "@/i18n";
import { useSession } from "@/stores/session";
import EmailTemplateEditor from "@/views/admin/emailTemplate/EmailTemplateEditor.vue";
import type { EmailTemplate } from "@/views/admin/emailTemplate/fields";

const BASE = "/api/v1/workspaces/3/inboxes/12/email-template";

const SAVED: EmailTemplate = {
  subject: "Your request",
  heading: "Hello from Acme",
  body_text: "We are here to help.",
  footnote: "Acme Ltd, 1 Main St",
  website_url: "https://acme.example",
  app_store_url: null,
  google_play_url: null,
  terms_url: "https://acme.example/terms",
  privacy_url: null,
  show_header_image: false,
  header_image_url: null,
  updated_at: "2026-11-24T10:00:00Z",
};

function previewOf(body: unknown): { subject: string; html: string; text: string } {
  const b = body as { heading: string; locale: string };
  return { subject: "Your request", html: `<html dir="${b.locale === "fa" ? "rtl" : "ltr"}"><body><h1>${b.heading}</h1></body></html>`, text: b.heading };
}

const previews = () => net.calls.filter((c) => c.method === "POST" && c.path === `${BASE}/preview`);
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeEach(() => {
  setActivePinia(createPinia());
  useSession().workspaceId = 3;
  i18n.global.locale.value = "en";
  net.calls = [];
  net.routes = {
    [`GET ${BASE}`]: { status: 200, body: SAVED },
    [`POST ${BASE}/preview`]: { status: 200, body: previewOf({ heading: SAVED.heading, locale: "en" }) },
  };
});

async function mountEditor() {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: "/admin/inboxes", component: { template: "<div />" } },
      { path: "/admin/inboxes/:inboxId/email-template", component: EmailTemplateEditor, props: (r) => ({ inboxId: Number(r.params.inboxId) }) },
    ],
  });
  await router.push("/admin/inboxes/12/email-template");
  // Inside a RouterView, as in the app, so its leave guard is the real one.
  const app = mount(defineComponent({ render: () => h(RouterView) }), { global: { plugins: [i18n, router] } });
  await flushPromises();
  const w = app.findComponent(EmailTemplateEditor);
  return Object.assign(w, { router });
}

const value = (w: Awaited<ReturnType<typeof mountEditor>>, key: string) => (w.get(`[data-testid="template-${key}"]`).element as HTMLInputElement).value;

describe("the email template editor", () => {
  it("loads and shows the saved values, and previews them in a sandboxed frame", async () => {
    const w = await mountEditor();
    expect(net.calls[0]).toMatchObject({ method: "GET", path: BASE });
    expect(value(w, "subject")).toBe("Your request");
    expect(value(w, "heading")).toBe("Hello from Acme");
    expect(value(w, "body_text")).toBe("We are here to help.");
    expect(value(w, "footnote")).toBe("Acme Ltd, 1 Main St");
    expect(value(w, "website_url")).toBe("https://acme.example");
    expect(value(w, "terms_url")).toBe("https://acme.example/terms");
    expect(value(w, "app_store_url")).toBe("");
    expect((w.get('[data-testid="template-show_header_image"]').element as HTMLInputElement).checked).toBe(false);
    const frame = w.get('[data-testid="template-preview"]');
    expect(frame.attributes("sandbox")).toBe("");
    expect(frame.attributes("srcdoc")).toContain("<h1>Hello from Acme</h1>");
    expect(w.get('[data-testid="template-preview-subject"]').text()).toBe("Your request");
    expect(w.find('[data-testid="template-dirty"]').exists()).toBe(false);
    // Loading the form previews once: filling the form with the saved values does not ask again.
    await wait(350);
    expect(previews().length).toBe(1);
  });

  it("asks for a new preview once typing pauses, with the unsaved values", async () => {
    const w = await mountEditor();
    const before = previews().length;
    net.routes[`POST ${BASE}/preview`] = { status: 200, body: previewOf({ heading: "Welcome!", locale: "en" }) };
    await w.get('[data-testid="template-heading"]').setValue("Wel");
    await wait(100);
    await w.get('[data-testid="template-heading"]').setValue("Welcome!");
    await w.get('[data-testid="template-privacy_url"]').setValue("https://acme.example/privacy");
    await wait(100);
    expect(previews().length).toBe(before); // still typing: nothing asked yet
    await wait(350);
    await flushPromises();
    expect(previews().length).toBe(before + 1);
    expect(previews().at(-1)?.body).toMatchObject({ heading: "Welcome!", privacy_url: "https://acme.example/privacy", app_store_url: null, locale: "en" });
    expect(w.get('[data-testid="template-preview"]').attributes("srcdoc")).toContain("<h1>Welcome!</h1>");
    expect(w.get('[data-testid="template-dirty"]').text()).toBe("Unsaved changes");
    // Nothing was saved by previewing.
    expect(net.calls.some((c) => c.method === "PUT")).toBe(false);
  });

  it("previews in Persian right to left when that language is chosen", async () => {
    const w = await mountEditor();
    net.routes[`POST ${BASE}/preview`] = { status: 200, body: previewOf({ heading: SAVED.heading, locale: "fa" }) };
    await w.get('[data-testid="template-preview-locale"]').setValue("fa");
    await flushPromises();
    expect(previews().at(-1)?.body).toMatchObject({ locale: "fa" });
    expect(w.get('[data-testid="template-preview"]').attributes("srcdoc")).toContain('dir="rtl"');
  });

  it("saves only the editable fields and takes the server's answer as the saved state", async () => {
    const w = await mountEditor();
    net.routes[`PUT ${BASE}`] = { status: 200, body: { ...SAVED, footnote: "New footnote", show_header_image: true, updated_at: "2026-11-24T11:00:00Z" } };
    await w.get('[data-testid="template-footnote"]').setValue("New footnote");
    await w.get('[data-testid="template-show_header_image"]').setValue(true);
    await w.get('[data-testid="template-website_url"]').setValue("  ");
    await w.get("form").trigger("submit");
    await flushPromises();
    const put = net.calls.find((c) => c.method === "PUT");
    expect(put?.path).toBe(BASE);
    expect(put?.body).toEqual({
      subject: "Your request",
      heading: "Hello from Acme",
      body_text: "We are here to help.",
      footnote: "New footnote",
      website_url: null,
      app_store_url: null,
      google_play_url: null,
      terms_url: "https://acme.example/terms",
      privacy_url: null,
      show_header_image: true,
    });
    expect(w.get('[data-testid="template-saved"]').text()).toBe("Saved.");
    expect(w.find('[data-testid="template-dirty"]').exists()).toBe(false);
  });

  it("shows a 422's error beside the field it names, by its label, and keeps the typed values", async () => {
    const w = await mountEditor();
    // What domain/email/template.py answers: the raw key in English. The editor says it in words.
    net.routes[`PUT ${BASE}`] = { status: 422, body: { error: { code: "invalid", message: "terms_url must be an http:// or https:// address", field: "terms_url" } } };
    await w.get('[data-testid="template-terms_url"]').setValue("javascript:alert(1)");
    await w.get("form").trigger("submit");
    await flushPromises();
    expect(w.get('[data-testid="template-error-terms_url"]').text()).toBe("Terms URL must be a web address starting with http:// or https://.");
    expect(w.text()).not.toContain("terms_url");
    expect(w.get('[data-testid="template-terms_url"]').attributes("aria-invalid")).toBe("true");
    expect(w.find('[data-testid="template-error-heading"]').exists()).toBe(false);
    expect(value(w, "terms_url")).toBe("javascript:alert(1)");
    expect(w.find('[data-testid="template-dirty"]').exists()).toBe(true);
  });

  it("names a refused field in the agent's language, the preview's error too", async () => {
    i18n.global.locale.value = "fa";
    const w = await mountEditor();
    net.routes[`POST ${BASE}/preview`] = { status: 422, body: { error: { code: "invalid", message: "website_url must be an http:// or https:// address", field: "website_url" } } };
    await w.get('[data-testid="template-website_url"]').setValue("javascript:x");
    await new Promise((r) => setTimeout(r, 350));
    await flushPromises();
    expect(w.get('[data-testid="template-preview-error"]').text()).toBe("نشانی وب‌سایت باید نشانی وبی باشد که با \u2066http://\u2069 یا \u2066https://\u2069 آغاز می‌شود.");
    net.routes[`PUT ${BASE}`] = { status: 422, body: { error: { code: "invalid", message: "body_text may be at most 2000 characters", field: "body_text" } } };
    await w.get('[data-testid="template-body_text"]').setValue("x".repeat(2001));
    await w.get("form").trigger("submit");
    await flushPromises();
    expect(w.get('[data-testid="template-error-body_text"]').text()).toBe("متن زیر پاسخ حداکثر 2000 نویسه می‌تواند باشد.");
    i18n.global.locale.value = "en";
  });

  it("says where the body text goes in the order the mail shows it: under the reply", async () => {
    const w = await mountEditor();
    const label = w.get('[data-testid="template-body_text"]').element.closest("label")!.textContent ?? "";
    expect(label).toContain("Text under the reply");
    expect(label).toContain("Shown under each reply, above the footnote.");
  });

  it("uploads the header image as multipart 'file' and shows it, keeping unsaved text", async () => {
    const w = await mountEditor();
    net.routes[`POST ${BASE}/header-image`] = { status: 200, body: { ...SAVED, header_image_url: "/files/abc/header.png" } };
    await w.get('[data-testid="template-heading"]').setValue("Typed, not saved");
    const input = w.get('[data-testid="template-image-input"]');
    const file = new File([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], "header.png", { type: "image/png" });
    Object.defineProperty(input.element, "files", { value: [file], configurable: true });
    await input.trigger("change");
    await flushPromises();
    const upload = net.calls.find((c) => c.path === `${BASE}/header-image`);
    expect(upload?.method).toBe("POST");
    expect(upload?.body).toBeInstanceOf(FormData);
    expect(((upload?.body as FormData).get("file") as File).name).toBe("header.png");
    expect(w.get('[data-testid="template-header-thumb"]').attributes("src")).toBe("/files/abc/header.png");
    expect(value(w, "heading")).toBe("Typed, not saved");
  });

  it("shows why an image was refused", async () => {
    const w = await mountEditor();
    net.routes[`POST ${BASE}/header-image`] = { status: 413, body: { error: { code: "too_large", message: "file: the image is larger than 1 MB", field: "file" } } };
    const input = w.get('[data-testid="template-image-input"]');
    Object.defineProperty(input.element, "files", { value: [new File(["x"], "big.png", { type: "image/png" })], configurable: true });
    await input.trigger("change");
    await flushPromises();
    expect(w.get('[data-testid="template-error-header_image"]').text()).toBe("The image is larger than 1 MB.");
    expect(w.find('[data-testid="template-header-thumb"]').exists()).toBe(false);
  });

  it("warns before leaving with unsaved changes, and leaves freely when all is saved", async () => {
    const w = await mountEditor();
    const confirm = vi.fn((_: string) => false);
    Object.defineProperty(window, "confirm", { value: confirm, configurable: true });
    await w.get('[data-testid="template-subject"]').setValue("Changed");
    await w.router.push("/admin/inboxes");
    expect(confirm).toHaveBeenCalledWith("The email template has unsaved changes. Leave without saving?");
    expect(w.router.currentRoute.value.path).toBe("/admin/inboxes/12/email-template");
    confirm.mockReturnValue(true);
    await w.router.push("/admin/inboxes");
    expect(w.router.currentRoute.value.path).toBe("/admin/inboxes");
  });

  it("leaves without asking when nothing changed", async () => {
    const w = await mountEditor();
    const confirm = vi.fn((_: string) => true);
    Object.defineProperty(window, "confirm", { value: confirm, configurable: true });
    await w.router.push("/admin/inboxes");
    expect(confirm).not.toHaveBeenCalled();
    expect(w.router.currentRoute.value.path).toBe("/admin/inboxes");
  });

  it("says when the inbox is not an email inbox", async () => {
    net.routes = {};
    const w = await mountEditor();
    expect(w.get('[data-testid="template-missing"]').text()).toBe("This inbox has no email template: only email inboxes have one.");
  });

  it("is translated (Turkish, Persian)", async () => {
    i18n.global.locale.value = "tr";
    expect((await mountEditor()).text()).toContain("Başlıktaki görseli göster");
    i18n.global.locale.value = "fa";
    expect((await mountEditor()).text()).toContain("نمایش تصویر سرصفحه");
  });
});
