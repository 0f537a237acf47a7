// The thread view: text rendered as text (no HTML), delivery marks, failed + retry, notes with
// mentions, activity lines, day separators, typing.
import { flushPromises, mount } from "@vue/test-utils";
import { createPinia, setActivePinia } from "pinia";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Conversation, Member, Message } from "@/api/types";
import MessageThread from "@/components/conversation/MessageThread.vue";
import { i18n } from "@/i18n";
import { useSession } from "@/stores/session";
import { useThread } from "@/stores/thread";
import { useWorkspace } from "@/stores/workspace";

function msg(id: number, extra: Partial<Message> = {}): Message {
  return {
    id,
    conversation_id: 7,
    inbox_id: 1,
    kind: "incoming",
    sender_type: "contact",
    sender_id: 5,
    text: `text ${id}`,
    content_type: "text",
    source_id: null,
    delivery_status: null,
    failure_reason: null,
    data: {},
    created_at: "2026-03-02T10:00:00",
    ...extra,
  };
}

const conversation = { id: 7, contact: { id: 5, name: "<b>Eve</b>" } } as unknown as Conversation;

describe("MessageThread", () => {
  const fetchMock = vi.fn();
  beforeEach(() => {
    setActivePinia(createPinia());
    const session = useSession();
    session.workspaceId = 1;
    session.me = { id: 1 } as never;
    useWorkspace().members = [{ user_id: 2, name: "Ana Agent", display_name: null } as Member];
    i18n.global.locale.value = "en";
    fetchMock.mockReset();
    vi.stubGlobal("fetch", fetchMock);
  });
  afterEach(() => vi.unstubAllGlobals());

  function mountWith(messages: Message[]) {
    const t = useThread().thread(7);
    t.messages = messages;
    t.loaded = true;
    return mount(MessageThread, { props: { conversationId: 7, conversation }, global: { plugins: [i18n] } });
  }

  it("renders user text as text, never as HTML", () => {
    const w = mountWith([msg(1, { text: '<img src=x onerror="alert(1)"><script>alert(2)</script>' })]);
    const bubble = w.get('[data-testid="message"]');
    expect(bubble.find("img").exists()).toBe(false);
    expect(bubble.find("script").exists()).toBe(false);
    expect(bubble.text()).toContain('<img src=x onerror="alert(1)">');
    expect(bubble.text()).toContain("<b>Eve</b>");
  });

  it("names a delivery system, not the customer, as the author of a bounce", () => {
    const w = mountWith([msg(1), msg(2, { sender_type: "system", sender_id: null, text: "Delivery failed" })]);
    const authors = w.findAll('[data-testid="message"] .author').map((a) => a.text());
    expect(authors).toEqual(["<b>Eve</b>", "Mail delivery system"]);
    i18n.global.locale.value = "tr";
    expect(mountWith([msg(3, { sender_type: "system", sender_id: null })]).get(".author").text()).toBe("Posta teslim sistemi");
  });

  it("groups by day and shows activity lines and notes apart", () => {
    const w = mountWith([
      msg(1, { created_at: "2026-03-01T10:00:00" }),
      msg(2, { kind: "activity", sender_type: "agent", sender_id: 2, data: { activity: "status_changed", status: "resolved" }, created_at: "2026-03-01T11:00:00" }),
      msg(3, { kind: "note", sender_type: "agent", sender_id: 2, text: "ping @ana please", data: { mentions: [2] }, created_at: "2026-03-02T09:00:00" }),
    ]);
    expect(w.findAll('[data-testid="day-separator"]')).toHaveLength(2);
    expect(w.get('[data-testid="activity-line"]').text()).toContain("Ana Agent resolved the conversation");
    const note = w.get('[data-testid="note-bubble"]');
    expect(note.text()).toContain("Private note");
    expect(note.get("mark").text()).toBe("@ana");
  });

  it("shows delivery marks and a retry button with the reason on failure", async () => {
    const w = mountWith([
      msg(1, { kind: "outgoing", sender_type: "agent", sender_id: 1, delivery_status: "read" }),
      msg(2, { kind: "outgoing", sender_type: "agent", sender_id: 1, delivery_status: "failed", failure_reason: "number blocked" }),
    ]);
    const statuses = w.findAll('[data-testid="message-status"]').map((s) => s.attributes("data-status"));
    expect(statuses).toEqual(["read", "failed"]);
    expect(w.get('[data-testid="failure-reason"]').text()).toBe("number blocked");
    fetchMock.mockResolvedValue(new Response(null, { status: 202 }));
    await w.get('[data-testid="message-retry"]').trigger("click");
    await flushPromises();
    expect(String(fetchMock.mock.calls[0]![0])).toBe("/api/v1/workspaces/1/conversations/7/messages/2/retry");
    expect(w.findAll('[data-testid="message"]')[1]!.attributes("data-status")).toBe("queued");
    expect(w.find('[data-testid="message-retry"]').exists()).toBe(false);
  });

  it("says who is typing", async () => {
    const w = mountWith([msg(1)]);
    expect(w.find('[data-testid="typing-indicator"]').exists()).toBe(false);
    useThread().onTyping({ seq: null, type: "typing", workspace_id: 1, inbox_id: 1, data: { conversation_id: 7, user_id: 2, typing: true } });
    await flushPromises();
    expect(w.get('[data-testid="typing-indicator"]').text()).toContain("Ana Agent is typing");
  });

  it("says when the website visitor is typing (typing events with contact_id and no user_id)", async () => {
    const w = mountWith([msg(1)]);
    const typing = (on: boolean): void =>
      useThread().onTyping({ seq: null, type: "typing", workspace_id: 1, inbox_id: 1, data: { conversation_id: 7, contact_id: 5, typing: on } });
    typing(true);
    await flushPromises();
    expect(w.get('[data-testid="typing-indicator"]').text()).toContain("<b>Eve</b> is typing…");
    typing(false);
    await flushPromises();
    expect(w.find('[data-testid="typing-indicator"]').exists()).toBe(false);
    // The visitor's message ends their typing mark.
    typing(true);
    useThread().apply(msg(2, { text: "hello" }));
    await flushPromises();
    expect(w.find('[data-testid="typing-indicator"]').exists()).toBe(false);
    // Another conversation's visitor is not shown here.
    useThread().onTyping({ seq: null, type: "typing", workspace_id: 1, inbox_id: 1, data: { conversation_id: 8, contact_id: 6, typing: true } });
    await flushPromises();
    expect(w.find('[data-testid="typing-indicator"]').exists()).toBe(false);
  });

  it("marks messages from the website's offline form", () => {
    const w = mountWith([msg(1, { content_type: "offline_form", text: "Please call me back" }), msg(2)]);
    const bubbles = w.findAll('[data-testid="message"]');
    expect(bubbles[0]!.get('[data-testid="offline-badge"]').text()).toBe("Offline message");
    expect(bubbles[0]!.text()).toContain("Please call me back");
    expect(bubbles[1]!.find('[data-testid="offline-badge"]').exists()).toBe(false);
  });

  it("shows a customer's rating as stars with their comment", () => {
    const w = mountWith([
      msg(1, { kind: "activity", sender_type: "contact", content_type: "csat", text: "Rated 4", data: { rating: 4, comment: "Quick and kind" } }),
      msg(2, { kind: "activity", sender_type: "contact", content_type: "csat", text: "Rated 2", data: { rating: 2 } }),
    ]);
    const lines = w.findAll('[data-testid="csat-line"]');
    expect(lines).toHaveLength(2);
    expect(lines[0]!.attributes("data-rating")).toBe("4");
    expect(lines[0]!.text()).toContain("<b>Eve</b> rated the conversation");
    expect(lines[0]!.findAll(".star.on")).toHaveLength(4);
    expect(lines[0]!.findAll(".star")).toHaveLength(5);
    expect(lines[0]!.get('[role="img"]').attributes("aria-label")).toBe("4 out of 5");
    expect(lines[0]!.get('[data-testid="csat-comment"]').text()).toBe("Quick and kind");
    expect(lines[1]!.findAll(".star.on")).toHaveLength(2);
    expect(lines[1]!.find('[data-testid="csat-comment"]').exists()).toBe(false);
    expect(w.find('[data-testid="activity-line"]').exists()).toBe(false);
  });

  it("falls back to the server's text for a rating it cannot read", () => {
    const w = mountWith([msg(1, { kind: "activity", sender_type: "contact", content_type: "csat", text: "Rated", data: { rating: 9 } })]);
    expect(w.find('[data-testid="csat-line"]').exists()).toBe(false);
    expect(w.get('[data-testid="activity-line"]').text()).toContain("Rated");
  });
});
