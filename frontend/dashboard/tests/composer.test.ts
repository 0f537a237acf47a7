// The composer: canned replies by "/", mentions in notes, drafts per conversation, sending.
import { flushPromises, mount } from "@vue/test-utils";
import { createPinia, setActivePinia } from "pinia";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { CannedResponse, Member } from "@/api/types";
import { filterCanned, mentionHandle, splitLinks, splitMentions, tokenAt } from "@/components/conversation/composerText";
import MessageComposer from "@/components/conversation/MessageComposer.vue";
import { activityText, snoozeOptions } from "@/components/conversation/threadText";
import { i18n } from "@/i18n";
import { useDrafts } from "@/stores/drafts";
import { useSession } from "@/stores/session";
import { useThread } from "@/stores/thread";
import { useWorkspace } from "@/stores/workspace";

const CANNED: CannedResponse[] = [
  { id: 1, short_code: "hello", text: "Hello! How can I help?" },
  { id: 2, short_code: "bye", text: "Goodbye, have a nice day." },
  { id: 3, short_code: "help-refund", text: "Refunds take 5 days." },
  { id: 4, short_code: "shipping", text: "We ship worldwide; say hello to the courier." },
];

describe("composer text helpers", () => {
  it("finds the /word at the caret only at the start of a word", () => {
    expect(tokenAt("/he", 3, "/")).toEqual({ start: 0, end: 3, query: "he" });
    expect(tokenAt("thanks /by", 10, "/")).toEqual({ start: 7, end: 10, query: "by" });
    expect(tokenAt("and/or", 6, "/")).toBeNull();
    expect(tokenAt("/he llo", 7, "/")).toBeNull();
  });

  it("filters canned replies: short code prefix first, then contains, then text", () => {
    expect(filterCanned(CANNED, "he").map((c) => c.short_code)).toEqual(["hello", "help-refund", "shipping"]);
    expect(filterCanned(CANNED, "BY").map((c) => c.short_code)).toEqual(["bye"]);
    expect(filterCanned(CANNED, "refund").map((c) => c.short_code)).toEqual(["help-refund"]);
    expect(filterCanned(CANNED, "").map((c) => c.short_code)).toEqual(["bye", "hello", "help-refund", "shipping"]);
    expect(filterCanned(CANNED, "zzz")).toEqual([]);
  });

  it("splits mentions and links into text parts (no HTML)", () => {
    expect(splitMentions("ask @jane.doe please")).toEqual([
      { text: "ask ", mention: false },
      { text: "@jane.doe", mention: true },
      { text: " please", mention: false },
    ]);
    expect(splitMentions("mail me@example.com")).toEqual([{ text: "mail me@example.com", mention: false }]);
    expect(splitLinks("see https://x.test/a?b=1. ok").map((p) => p.href)).toEqual([null, "https://x.test/a?b=1", null]);
    expect(mentionHandle({ name: "Jane Doe", email: "j@x.test" })).toBe("JaneDoe");
  });

  it("offers snooze presets in the future, tonight only when there is time", () => {
    const morning = new Date(2026, 2, 4, 10, 0); // a Wednesday
    const keys = snoozeOptions(morning).map((o) => o.key);
    expect(keys).toEqual(["hour", "tonight", "tomorrow", "nextWeek"]);
    const monday = snoozeOptions(morning).find((o) => o.key === "nextWeek")!.until;
    expect(monday.getDay()).toBe(1);
    expect(monday.getDate()).toBe(9);
    expect(snoozeOptions(new Date(2026, 2, 4, 17, 30)).map((o) => o.key)).not.toContain("tonight");
    for (const o of snoozeOptions(morning)) expect(o.until.getTime()).toBeGreaterThan(morning.getTime());
  });

  it("renders activity lines from their data", () => {
    const t = i18n.global.t as unknown as (k: string, p?: Record<string, unknown>) => string;
    const names = { member: (id: number | null | undefined) => (id === 2 ? "Ana" : id === 3 ? "Bo" : ""), team: () => "Billing", date: () => "soon" };
    expect(activityText({ sender_id: 3, text: "x", data: { activity: "assigned", assignee_id: 2, team_id: 1, comment: "VIP" } }, t, names)).toBe(
      "Bo transferred the conversation to Ana / Billing: “VIP”",
    );
    expect(activityText({ sender_id: 3, text: "x", data: { activity: "status_changed", status: "resolved" } }, t, names)).toBe(
      "Bo resolved the conversation",
    );
    expect(activityText({ sender_id: null, text: "fallback", data: { activity: "unknown" } }, t, names)).toBe("fallback");
    expect(activityText({ sender_id: null, text: "x", data: { activity: "followed", name: "Fay" } }, t, names)).toBe("Fay followed the account");
    expect(activityText({ sender_id: null, text: "x", data: { activity: "unfollowed", name: "Fay" } }, t, names)).toBe(
      "Fay unfollowed or blocked the account",
    );
  });
});

describe("MessageComposer", () => {
  const fetchMock = vi.fn();

  beforeEach(() => {
    localStorage.clear();
    setActivePinia(createPinia());
    const session = useSession();
    session.workspaceId = 1;
    session.me = { id: 1 } as never;
    const ws = useWorkspace();
    ws.canned = CANNED;
    ws.members = [
      { user_id: 2, name: "Jane Doe", email: "jane@x.test", display_name: null, status: "online", is_active: true } as Member,
    ];
    i18n.global.locale.value = "en";
    fetchMock.mockReset();
    vi.stubGlobal("fetch", fetchMock);
  });
  afterEach(() => vi.unstubAllGlobals());

  function mountComposer(conversationId = 7) {
    return mount(MessageComposer, { props: { conversationId }, global: { plugins: [i18n] }, attachTo: document.body });
  }

  async function type(wrapper: ReturnType<typeof mountComposer>, value: string): Promise<void> {
    const input = wrapper.get('[data-testid="composer-input"]');
    await input.setValue(value);
    (input.element as HTMLTextAreaElement).setSelectionRange(value.length, value.length);
    await input.trigger("keyup");
  }

  it("opens the canned popup on /code, filters it, and inserts with arrows + Enter", async () => {
    const w = mountComposer();
    await type(w, "/he");
    expect(w.find('[data-testid="canned-popup"]').exists()).toBe(true);
    expect(w.findAll('[data-testid="canned-option"]').map((o) => o.attributes("data-code"))).toEqual(["hello", "help-refund", "shipping"]);
    const input = w.get('[data-testid="composer-input"]');
    await input.trigger("keydown", { key: "ArrowDown" });
    await input.trigger("keydown", { key: "Enter" });
    await flushPromises();
    expect((input.element as HTMLTextAreaElement).value).toBe("Refunds take 5 days.");
    expect(w.find('[data-testid="canned-popup"]').exists()).toBe(false);
    expect(fetchMock).not.toHaveBeenCalled(); // Enter picked, it did not send
    w.unmount();
  });

  it("closes the canned popup on Escape", async () => {
    const w = mountComposer();
    await type(w, "/by");
    expect(w.findAll('[data-testid="canned-option"]')).toHaveLength(1);
    await w.get('[data-testid="composer-input"]').trigger("keydown", { key: "Escape" });
    expect(w.find('[data-testid="canned-popup"]').exists()).toBe(false);
    w.unmount();
  });

  it("suggests members after @ in note mode only", async () => {
    const w = mountComposer();
    await type(w, "@ja");
    expect(w.find('[data-testid="mention-popup"]').exists()).toBe(false);
    await w.get('[data-testid="composer-mode-note"]').trigger("click");
    await type(w, "@ja");
    expect(w.findAll('[data-testid="mention-option"]')).toHaveLength(1);
    await w.get('[data-testid="composer-input"]').trigger("keydown", { key: "Tab" });
    await flushPromises();
    expect((w.get('[data-testid="composer-input"]').element as HTMLTextAreaElement).value).toBe("@JaneDoe ");
    w.unmount();
  });

  it("keeps a draft per conversation when switching, and restores the mode", async () => {
    const w = mountComposer(7);
    await w.get('[data-testid="composer-mode-note"]').trigger("click");
    await type(w, "note for seven");
    await w.setProps({ conversationId: 8 });
    await flushPromises();
    const input = w.get('[data-testid="composer-input"]').element as HTMLTextAreaElement;
    expect(input.value).toBe("");
    expect(w.get('[data-testid="composer"]').classes()).toContain("reply");
    await type(w, "reply for eight");
    await w.setProps({ conversationId: 7 });
    await flushPromises();
    expect(input.value).toBe("note for seven");
    expect(w.get('[data-testid="composer"]').classes()).toContain("note");
    expect(useDrafts().get(8).text).toBe("reply for eight");
    w.unmount();
  });

  it("sends on Enter (not Shift+Enter) and clears the draft", async () => {
    useThread().thread(7).loaded = true;
    fetchMock.mockResolvedValue(
      new Response(
        JSON.stringify({ id: 50, conversation_id: 7, inbox_id: 1, kind: "outgoing", sender_type: "agent", sender_id: 1, text: "Hi!", content_type: "text", source_id: null, delivery_status: "queued", failure_reason: null, failure_detail: null, delivery_attempts: 0, next_attempt_at: null, data: {}, created_at: new Date().toISOString() }),
        { status: 201 },
      ),
    );
    const w = mountComposer(7);
    await type(w, "Hi!");
    const input = w.get('[data-testid="composer-input"]');
    await input.trigger("keydown", { key: "Enter", shiftKey: true });
    expect(fetchMock).not.toHaveBeenCalled();
    await input.trigger("keydown", { key: "Enter" });
    await flushPromises();
    expect(fetchMock).toHaveBeenCalledTimes(1);
    const [url, init] = fetchMock.mock.calls[0]!;
    expect(String(url)).toBe("/api/v1/workspaces/1/conversations/7/messages");
    expect(JSON.parse(String(init.body))).toEqual({ text: "Hi!", private: false, client_id: expect.any(String) });
    expect((input.element as HTMLTextAreaElement).value).toBe("");
    expect(useDrafts().get(7).text).toBe("");
    expect(useThread().peek(7)!.messages.map((m) => m.id)).toEqual([50]);
    w.unmount();
  });

  it("uploads attached files as multipart with the text", async () => {
    useThread().thread(7).loaded = true;
    fetchMock.mockResolvedValue(new Response(JSON.stringify({ id: 51, conversation_id: 7, kind: "note", sender_type: "agent", text: "see file", data: {}, created_at: new Date().toISOString() }), { status: 201 }));
    const w = mountComposer(7);
    (w.vm as unknown as { addFiles: (f: File[]) => void }).addFiles([new File(["abc"], "a.txt", { type: "text/plain" })]);
    await flushPromises();
    expect(w.findAll('[data-testid="attachment-chip"]')).toHaveLength(1);
    await w.get('[data-testid="composer-mode-note"]').trigger("click");
    await type(w, "see file");
    await w.get('[data-testid="composer-send"]').trigger("click");
    await flushPromises();
    const [url, init] = fetchMock.mock.calls[0]!;
    expect(String(url)).toBe("/api/v1/workspaces/1/conversations/7/attachments");
    const form = init.body as FormData;
    expect(form.get("text")).toBe("see file");
    expect(form.get("private")).toBe("true");
    expect((form.get("file") as File).name).toBe("a.txt");
    expect(w.findAll('[data-testid="attachment-chip"]')).toHaveLength(0);
    w.unmount();
  });

  it("puts the text back when sending fails", async () => {
    useThread().thread(7).loaded = true;
    fetchMock.mockRejectedValue(new TypeError("offline"));
    const w = mountComposer(7);
    await type(w, "important");
    vi.useFakeTimers();
    try {
      await w.get('[data-testid="composer-send"]').trigger("click");
      // Posted three times with one client_id (the connection may have dropped after the server
      // stored it), then given up.
      await vi.advanceTimersByTimeAsync(4000);
    } finally {
      vi.useRealTimers();
    }
    await flushPromises();
    const posts = fetchMock.mock.calls.filter(([, init]) => init?.method === "POST");
    expect(posts).toHaveLength(3);
    expect(new Set(posts.map(([, init]) => JSON.parse(String(init.body)).client_id)).size).toBe(1);
    expect((w.get('[data-testid="composer-input"]').element as HTMLTextAreaElement).value).toBe("important");
    expect(w.emitted("error")).toHaveLength(1);
    w.unmount();
  });
});
