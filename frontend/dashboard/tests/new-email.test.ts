// "New email" in the conversation list's header: shown only with an enabled email inbox; the dialog
// posts the first email (POST …/inboxes/{id}/email-conversations), opens the new conversation, shows
// the server's refusal beside the field it names, and cannot be sent twice while the first is on its way.
import { flushPromises, mount, type VueWrapper } from "@vue/test-utils";
import { createPinia, setActivePinia } from "pinia";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createMemoryHistory, createRouter, type Router } from "vue-router";

// openapi-fetch keeps the fetch it finds when the client is created: install a forwarding fake first.
const net = vi.hoisted(() => {
  type Answer = { status: number; body: unknown };
  const state = {
    routes: {} as Record<string, Answer | (() => Promise<Answer>)>,
    calls: [] as { method: string; path: string; body: unknown }[],
  };
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = input instanceof Request ? input : new Request(String(input), init);
    const url = new URL(req.url, "http://localhost");
    const text = await req.text();
    state.calls.push({ method: req.method, path: url.pathname, body: text ? JSON.parse(text) : null });
    let answer: Answer;
    const route = state.routes[`${req.method} ${url.pathname}`];
    if (typeof route === "function") answer = await route();
    else if (route) answer = route;
    else if (url.pathname.endsWith("/counts")) answer = { status: 200, body: { all: {}, mine: {}, unassigned: {} } };
    else if (url.pathname.endsWith("/conversations")) answer = { status: 200, body: { conversations: [], next_cursor: null } };
    else answer = { status: 404, body: { error: { code: "not_found", message: "no" } } };
    return new Response(JSON.stringify(answer.body), { status: answer.status, headers: { "Content-Type": "application/json" } });
  }) as typeof fetch;
  return state;
});

import type { Inbox } from "@/api/types";
import ConversationList from "@/components/list/ConversationList.vue";
import { i18n } from "@/i18n";
import { useSession } from "@/stores/session";
import { useWorkspace } from "@/stores/workspace";

const POST = "/api/v1/workspaces/3/inboxes/12/email-conversations";

function inbox(id: number, channel_type: string, over: Partial<Inbox> = {}): Inbox {
  return { id, name: `Inbox ${id}`, channel_type, created_at: "", settings: {}, uid: `u${id}`, webhook_path: "", is_enabled: true, ...over };
}

let router: Router;
let wrapper: VueWrapper | null = null;

beforeEach(async () => {
  setActivePinia(createPinia());
  const session = useSession();
  session.me = { id: 7, email: "me@x.test", name: "Me", display_name: null, locale: "en", avatar_url: null, preferences: { hotkeys: true } as never, workspaces: [{ id: 3, name: "W", role: "agent" }] };
  session.workspaceId = 3;
  i18n.global.locale.value = "en";
  net.routes = {};
  net.calls = [];
  router = createRouter({
    history: createMemoryHistory(),
    routes: [{ path: "/:view(inbox|mine|unassigned|archive)/:id(\\d+)?", component: { render: () => null } }],
  });
  await router.push("/inbox");
});
afterEach(() => {
  wrapper?.unmount();
  wrapper = null;
});

async function mountList(inboxes: Inbox[]) {
  useWorkspace().inboxes = inboxes;
  wrapper = mount(ConversationList, { props: { view: "inbox", selectedId: null }, global: { plugins: [router, i18n] }, attachTo: document.body });
  await flushPromises();
  return wrapper;
}

async function openDialog(inboxes: Inbox[] = [inbox(1, "web"), inbox(12, "email")]) {
  const w = await mountList(inboxes);
  await w.get('[data-testid="new-email"]').trigger("click");
  await flushPromises();
  return w;
}

describe("the New email button", () => {
  it("is hidden without an enabled email inbox", async () => {
    const w = await mountList([inbox(1, "web"), inbox(12, "email", { is_enabled: false })]);
    expect(w.find('[data-testid="new-email"]').exists()).toBe(false);
  });

  it("is shown with an enabled email inbox and opens an accessible dialog with the To field focused", async () => {
    const w = await openDialog();
    const dialog = w.get('[data-testid="new-email-dialog"]');
    expect(dialog.attributes("role")).toBe("dialog");
    expect(dialog.attributes("aria-modal")).toBe("true");
    const title = document.getElementById(dialog.attributes("aria-labelledby") ?? "");
    expect(title?.textContent).toBe("New email");
    expect(document.activeElement).toBe(w.get('[data-testid="new-email-to"]').element);
    // Every input has a label tied to it.
    for (const id of ["new-email-inbox", "new-email-to", "new-email-name", "new-email-subject", "new-email-text"]) {
      const el = w.get(`[data-testid="${id}"]`).element as HTMLElement;
      expect(dialog.find(`label[for="${el.id}"]`).exists(), id).toBe(true);
    }
    // Only enabled email inboxes are offered, and the only one is preselected.
    const select = w.get('[data-testid="new-email-inbox"]');
    expect(select.findAll("option").map((o) => o.text())).toEqual(["Inbox 12"]);
    expect((select.element as HTMLSelectElement).value).toBe("12");
  });

  it("closes with Cancel and with Esc", async () => {
    const w = await openDialog();
    await w.get('[data-testid="new-email-cancel"]').trigger("click");
    expect(w.find('[data-testid="new-email-dialog"]').exists()).toBe(false);
    await w.get('[data-testid="new-email"]').trigger("click");
    await w.get('[data-testid="new-email-to"]').trigger("keydown", { key: "Escape" });
    expect(w.find('[data-testid="new-email-dialog"]').exists()).toBe(false);
    expect(net.calls.some((c) => c.method === "POST")).toBe(false);
  });
});

describe("sending a new email", () => {
  it("posts to the chosen inbox and opens the new conversation; an empty subject is sent as null", async () => {
    net.routes[`POST ${POST}`] = { status: 201, body: { conversation_id: 77 } };
    const w = await openDialog();
    await w.get('[data-testid="new-email-to"]').setValue(" ayse@example.com ");
    await w.get('[data-testid="new-email-name"]').setValue("Ayşe Yılmaz");
    await w.get('[data-testid="new-email-text"]').setValue("Hello Ayşe,\nyour order shipped.");
    await w.get('[data-testid="new-email-send"]').trigger("click");
    await flushPromises();
    const call = net.calls.find((c) => c.method === "POST");
    expect(call?.path).toBe(POST);
    // The choice made here: optional fields left empty travel as null, never as "" (the server then
    // uses the inbox's email template subject).
    expect(call?.body).toEqual({ to: "ayse@example.com", name: "Ayşe Yılmaz", subject: null, text: "Hello Ayşe,\nyour order shipped." });
    expect(w.find('[data-testid="new-email-dialog"]').exists()).toBe(false);
    expect(router.currentRoute.value.path).toBe("/inbox/77");
  });

  it("sends a typed subject and an empty name as null", async () => {
    net.routes[`POST ${POST}`] = { status: 201, body: { conversation_id: 78 } };
    const w = await openDialog();
    await w.get('[data-testid="new-email-to"]').setValue("ayse@example.com");
    await w.get('[data-testid="new-email-subject"]').setValue("Your order");
    await w.get('[data-testid="new-email-text"]').setValue("Hi");
    await w.get("form").trigger("submit");
    await flushPromises();
    expect(net.calls.find((c) => c.method === "POST")?.body).toEqual({ to: "ayse@example.com", name: null, subject: "Your order", text: "Hi" });
    expect(router.currentRoute.value.path).toBe("/inbox/78");
  });

  it("shows a 422 naming the To field beside it, and stays open", async () => {
    net.routes[`POST ${POST}`] = { status: 422, body: { error: { code: "invalid", message: "Not an email address.", field: "to" } } };
    const w = await openDialog();
    await w.get('[data-testid="new-email-to"]').setValue("not-an-address");
    await w.get('[data-testid="new-email-text"]').setValue("Hi");
    await w.get('[data-testid="new-email-send"]').trigger("click");
    await flushPromises();
    expect(w.get('[data-testid="new-email-error-to"]').text()).toBe("Not an email address.");
    expect(w.get('[data-testid="new-email-to"]').attributes("aria-invalid")).toBe("true");
    expect(w.find('[data-testid="new-email-error"]').exists()).toBe(false);
    expect(w.find('[data-testid="new-email-dialog"]').exists()).toBe(true);
    expect(router.currentRoute.value.path).toBe("/inbox");
  });

  it("shows the missing subject beside the subject field, and a refusal without a field as one line", async () => {
    net.routes[`POST ${POST}`] = { status: 422, body: { error: { code: "subject_required", message: "Give a subject: the template has none.", field: "subject" } } };
    const w = await openDialog();
    await w.get('[data-testid="new-email-to"]').setValue("ayse@example.com");
    await w.get('[data-testid="new-email-text"]').setValue("Hi");
    await w.get('[data-testid="new-email-send"]').trigger("click");
    await flushPromises();
    expect(w.get('[data-testid="new-email-error-subject"]').text()).toBe("Give a subject: the template has none.");
    net.routes[`POST ${POST}`] = { status: 409, body: { error: { code: "contact_blocked", message: "This contact is blocked.", field: null } } };
    await w.get('[data-testid="new-email-send"]').trigger("click");
    await flushPromises();
    expect(w.find('[data-testid="new-email-error-subject"]').exists()).toBe(false);
    expect(w.get('[data-testid="new-email-error"]').text()).toBe("This contact is blocked.");
  });

  it("disables Send while the email is on its way", async () => {
    let answer!: (a: { status: number; body: unknown }) => void;
    net.routes[`POST ${POST}`] = () => new Promise((resolve) => (answer = resolve));
    const w = await openDialog();
    await w.get('[data-testid="new-email-to"]').setValue("ayse@example.com");
    await w.get('[data-testid="new-email-text"]').setValue("Hi");
    await w.get('[data-testid="new-email-send"]').trigger("click");
    await flushPromises();
    expect(w.get('[data-testid="new-email-send"]').attributes("disabled")).toBeDefined();
    await w.get("form").trigger("submit"); // a second try while in flight sends nothing
    await flushPromises();
    expect(net.calls.filter((c) => c.method === "POST")).toHaveLength(1);
    answer({ status: 201, body: { conversation_id: 79 } });
    await flushPromises();
    expect(router.currentRoute.value.path).toBe("/inbox/79");
  });
});
