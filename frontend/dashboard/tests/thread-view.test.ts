// The thread view: text rendered as text (no HTML), delivery marks, failed + retry, notes with
// mentions, activity lines, day separators, typing.
import { flushPromises, mount } from "@vue/test-utils";
import { createPinia, setActivePinia } from "pinia";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Conversation, Member, Message } from "@/api/types";
import MessageThread from "@/components/conversation/MessageThread.vue";
import { formatTime } from "@/composables/format";
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
    failure_reason: null, failure_detail: null, delivery_attempts: 0, next_attempt_at: null,
    annotations: [],
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
      msg(2, { kind: "outgoing", sender_type: "agent", sender_id: 1, delivery_status: "failed", failure_reason: "recipient_refused", failure_detail: "SMTP 550 5.1.1 number blocked", delivery_attempts: 1 }),
    ]);
    const statuses = w.findAll('[data-testid="message-status"]').map((s) => s.attributes("data-status"));
    expect(statuses).toEqual(["read", "failed"]);
    expect(w.get('[data-testid="delivery-state"]').attributes("data-state")).toBe("failed");
    expect(w.get('[data-testid="failure-reason"]').text()).toBe("The provider refused the recipient's address.");
    expect(w.get('[data-testid="failure-detail"]').text()).toBe("SMTP 550 5.1.1 number blocked");
    expect(w.find('[data-testid="delivery-attempts"]').exists()).toBe(false); // one attempt: nothing to count
    fetchMock.mockResolvedValue(new Response(null, { status: 202 }));
    await w.get('[data-testid="message-retry"]').trigger("click");
    await flushPromises();
    expect(String(fetchMock.mock.calls[0]![0])).toBe("/api/v1/workspaces/1/conversations/7/messages/2/retry");
    expect(w.findAll('[data-testid="message"]')[1]!.attributes("data-status")).toBe("queued");
    expect(w.find('[data-testid="message-retry"]').exists()).toBe(false);
  });

  function waiting(extra: Partial<Message> = {}): Message {
    return msg(2, {
      kind: "outgoing", sender_type: "agent", sender_id: 1, delivery_status: "queued",
      failure_reason: "connection_failed", failure_detail: "could not reach the webhook receiver: [Errno 111] Connection refused",
      delivery_attempts: 3, next_attempt_at: "2026-03-02T10:30:00Z", ...extra,
    });
  }

  it("shows a reply waiting between attempts: why, when the next comes, and retry now or cancel", async () => {
    const w = mountWith([waiting()]);
    const state = w.get('[data-testid="delivery-state"]');
    expect(state.attributes("data-state")).toBe("retrying");
    expect(state.classes()).toContain("waiting");
    expect(w.get('[data-testid="message-status"]').attributes("data-status")).toBe("queued");
    expect(w.get('[data-testid="failure-reason"]').text()).toBe("Could not connect to the provider.");
    expect(w.get('[data-testid="next-attempt"]').text()).toBe(`Retrying — next attempt at ${formatTime("2026-03-02T10:30:00Z")}`);
    expect(w.get('[data-testid="delivery-attempts"]').text()).toBe("Tried 3 times");
    expect(w.get('[data-testid="failure-detail"]').text()).toContain("Connection refused");
    expect(w.get('[data-testid="message-retry"]').text()).toBe("Retry now");

    fetchMock.mockResolvedValueOnce(new Response(JSON.stringify({ ...waiting(), next_attempt_at: null }), { status: 202 }));
    await w.get('[data-testid="message-retry"]').trigger("click");
    await flushPromises();
    expect(String(fetchMock.mock.calls[0]![0])).toBe("/api/v1/workspaces/1/conversations/7/messages/2/retry");
    expect(w.get('[data-testid="next-attempt"]').text()).toBe("Trying again now…");
    expect(w.get('[data-testid="failure-reason"]').text()).toBe("Could not connect to the provider.");
    expect(w.find('[data-testid="message-retry"]').exists()).toBe(false);

    const cancelled = { ...waiting(), delivery_status: "cancelled", next_attempt_at: null };
    fetchMock.mockResolvedValueOnce(new Response(JSON.stringify(cancelled), { status: 200 }));
    await w.get('[data-testid="message-cancel"]').trigger("click");
    await flushPromises();
    expect(String(fetchMock.mock.calls[1]![0])).toBe("/api/v1/workspaces/1/conversations/7/messages/2/cancel");
    expect(w.get('[data-testid="message-status"]').attributes("data-status")).toBe("cancelled");
    expect(w.get('[data-testid="delivery-state"]').text()).toBe("Cancelled — this reply was not sent.");
    expect(w.find('[data-testid="message-retry"]').exists()).toBe(false);
  });

  it("translates the reason and keeps the provider's words as they are", () => {
    for (const [locale, words] of [["tr", "Sağlayıcıya bağlanılamadı."], ["fa", "اتصال به ارائه‌دهنده برقرار نشد."]] as const) {
      i18n.global.locale.value = locale;
      const w = mountWith([waiting()]);
      expect(w.get('[data-testid="failure-reason"]').text()).toBe(words);
      expect(w.get('[data-testid="failure-detail"]').text()).toBe("could not reach the webhook receiver: [Errno 111] Connection refused");
      expect(w.get('[data-testid="failure-detail"]').attributes("dir")).toBe("auto");
      w.unmount();
    }
    i18n.global.locale.value = "en";
    // A code from a newer server than this dashboard still reads as a failure.
    const w = mountWith([waiting({ failure_reason: "from_the_future" as Message["failure_reason"], failure_detail: null })]);
    expect(w.get('[data-testid="failure-reason"]').text()).toBe("Delivery failed.");
    expect(w.find('[data-testid="failure-detail"]').exists()).toBe(false);
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

  it("words the system's annotations in the agent's language, beside the customer's text", async () => {
    const annotations = [
      { code: "attachment_too_large", filename: "x.png", size: 14_000_000, limit: 10_485_760 },
      { code: "attachment_refused", filename: "run.exe", size: 2048, content_type: "application/x-msdownload", reason: "type_not_allowed" },
      { code: "email_unreadable", detail: "a MIME part could not be read", original: "message.eml" },
      { code: "something_new", whatever: 1 },
    ];
    const w = mountWith([msg(1, { text: "Here are the photos", annotations })]);
    expect(w.get('[data-testid="message"] .bidi:not(.author)').text()).toBe("Here are the photos");
    const lines = w.findAll('[data-testid="message-annotation"]');
    expect(lines.map((l) => l.attributes("data-code"))).toEqual(["attachment_too_large", "attachment_refused", "email_unreadable", "something_new"]);
    expect(lines[0]!.text()).toBe("The attachment x.png (13.4 MB) was left out: it is larger than the 10 MB limit.");
    expect(lines[1]!.text()).toContain("files of type application/x-msdownload are not accepted");
    expect(lines[2]!.text()).toBe("This email could not be read completely (a MIME part could not be read). The original is attached as message.eml.");
    expect(lines[3]!.text()).toContain("(something_new)");
    i18n.global.locale.value = "fa";
    await flushPromises();
    expect(w.findAll('[data-testid="message-annotation"]')[0]!.text()).toContain("x.png");
    expect(w.findAll('[data-testid="message-annotation"]')[0]!.text()).toContain("کنار گذاشته شد");
  });

  it("reads an assignment by reply as taking the conversation", () => {
    const w = mountWith([
      msg(1, { kind: "activity", sender_type: "agent", sender_id: 2, text: "Ana took it", data: { activity: "assigned", assignee_id: 2, by_reply: true } }),
    ]);
    expect(w.get('[data-testid="activity-line"]').text()).toContain("Ana Agent took the conversation by replying");
  });
});
