// Who is told what: the notification rules of stores/notifications.ts.
import { createPinia, setActivePinia } from "pinia";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Conversation, Me, Message, StreamEvent } from "@/api/types";
import { REOFFER_MS, TOAST_MS, useNotifications } from "@/stores/notifications";
import { usePresence } from "@/stores/presence";
import { useSession } from "@/stores/session";

const sendMock = vi.hoisted(() => vi.fn());
vi.mock("@/api/client", () => ({
  send: sendMock,
  setUnauthorizedHandler: () => undefined,
  ApiError: class extends Error {},
}));

const ME = 1;
const OTHER = 2;

function conv(id: number, over: Partial<Conversation> = {}): Conversation {
  return {
    id,
    number: id,
    inbox_id: 3,
    contact: { id: 50 + id, name: `Contact ${id}` },
    status: "open",
    snoozed_until: null,
    assignee_id: null,
    team_id: null,
    priority: "none",
    labels: [],
    last_activity_at: "2024-01-01T10:00:00Z",
    waiting_since: null,
    first_reply_at: null,
    first_reply_seconds: null,
    last_message_preview: "Hello there",
    unread_count: 1,
    created_at: "2024-01-01T10:00:00Z",
    ...over,
  } as Conversation;
}

function msg(over: Partial<Message> & { conversation_id: number }): Message {
  return {
    id: Math.floor(Math.random() * 1e6),
    inbox_id: 3,
    kind: "incoming",
    sender_type: "contact",
    sender_id: 99,
    text: "Is anyone there?",
    content_type: "text",
    source_id: null,
    delivery_status: null,
    failure_reason: null, failure_detail: null, delivery_attempts: 0, next_attempt_at: null,
    data: {},
    created_at: "2024-01-01T10:00:00Z",
    ...over,
  } as Message;
}

function ev(type: string, data: Record<string, unknown>): StreamEvent {
  return { seq: null, type, workspace_id: 7, inbox_id: 3, data };
}

let store: ReturnType<typeof useNotifications>;
let sound: ReturnType<typeof vi.fn<() => void>>;
let browser: ReturnType<typeof vi.fn<(toast: unknown, title: string) => void>>;
const remote = new Map<number, Conversation>();

function signIn(notifyOn?: Me["preferences"]["notify_on"]): void {
  const session = useSession();
  session.me = {
    id: ME,
    email: "me@example.test",
    name: "Me",
    display_name: null,
    locale: "en",
    avatar_url: null,
    preferences: {
      theme: "system",
      sound: true,
      browser_notifications: true,
      notify_on: notifyOn ?? ["new_conversation", "new_message", "mention", "assignment"],
      auto_away_minutes: 10,
      hotkeys: true,
    },
    workspaces: [{ id: 7, name: "W", role: "agent" }],
  };
  session.workspaceId = 7;
}

beforeEach(() => {
  vi.useFakeTimers();
  setActivePinia(createPinia());
  remote.clear();
  sendMock.mockReset();
  sendMock.mockImplementation(async (method: string, url: string) => {
    const m = url.match(/\/conversations\/(\d+)$/);
    if (method === "GET" && m) {
      const c = remote.get(Number(m[1]));
      if (!c) throw new Error("404");
      return c;
    }
    return null;
  });
  signIn();
  store = useNotifications();
  sound = vi.fn<() => void>();
  browser = vi.fn<(toast: unknown, title: string) => void>();
  store.hooks.sound = sound;
  store.hooks.browser = browser;
});

afterEach(() => {
  store.clear();
  vi.useRealTimers();
});

describe("new chats and messages", () => {
  it("notifies a new unassigned conversation with its contact and first message", async () => {
    await store.handle(ev("conversation.created", { conversation: conv(10) }));
    expect(store.toasts).toHaveLength(1);
    expect(store.toasts[0]).toMatchObject({ kind: "new_conversation", conversationId: 10, contactName: "Contact 10", text: "Hello there", inboxId: 3 });
    expect(sound).toHaveBeenCalledTimes(1);
  });

  it("says nothing about a new conversation assigned to someone else", async () => {
    await store.handle(ev("conversation.created", { conversation: conv(10, { assignee_id: OTHER }) }));
    expect(store.toasts).toHaveLength(0);
    expect(sound).not.toHaveBeenCalled();
  });

  it("notifies incoming messages in my and unassigned conversations only", async () => {
    remote.set(11, conv(11, { assignee_id: ME }));
    remote.set(12, conv(12, { assignee_id: null }));
    remote.set(13, conv(13, { assignee_id: OTHER }));
    for (const id of [11, 12, 13]) await store.handle(ev("message.created", { message: msg({ conversation_id: id, text: `text ${id}` }) }));
    expect(store.toasts.map((x) => [x.conversationId, x.kind, x.text])).toEqual([
      [11, "new_message", "text 11"],
      [12, "new_message", "text 12"],
    ]);
  });

  it("merges the new conversation and its first message into one toast", async () => {
    remote.set(14, conv(14));
    await store.handle(ev("conversation.created", { conversation: conv(14) }));
    await store.handle(ev("message.created", { message: msg({ conversation_id: 14, data: { page_url: "https://shop.example/cart" } }) }));
    expect(store.toasts).toHaveLength(1);
    expect(store.toasts[0]).toMatchObject({ kind: "new_conversation", pageUrl: "https://shop.example/cart" });
    expect(sound).toHaveBeenCalledTimes(1);
  });

  it("respects notify_on", async () => {
    signIn(["mention"]);
    remote.set(15, conv(15));
    await store.handle(ev("conversation.created", { conversation: conv(16) }));
    await store.handle(ev("message.created", { message: msg({ conversation_id: 15 }) }));
    expect(store.toasts).toHaveLength(0);
  });

  it("stays quiet about the conversation the agent has open", async () => {
    store.setOpen(17);
    remote.set(17, conv(17));
    await store.handle(ev("message.created", { message: msg({ conversation_id: 17 }) }));
    await store.handle(ev("conversation.created", { conversation: conv(17) }));
    expect(store.toasts).toHaveLength(0);
  });

  it("ignores outgoing replies and activity lines", async () => {
    remote.set(18, conv(18));
    await store.handle(ev("message.created", { message: msg({ conversation_id: 18, kind: "outgoing", sender_type: "agent", sender_id: OTHER }) }));
    await store.handle(ev("message.created", { message: msg({ conversation_id: 18, kind: "activity", sender_type: "system", sender_id: null, data: { activity: "status_changed" } }) }));
    expect(store.toasts).toHaveLength(0);
  });

  it("dismisses ordinary toasts after about 15 seconds", async () => {
    await store.handle(ev("conversation.created", { conversation: conv(19) }));
    vi.advanceTimersByTime(TOAST_MS - 1);
    expect(store.toasts).toHaveLength(1);
    vi.advanceTimersByTime(2);
    expect(store.toasts).toHaveLength(0);
  });

  it("raises a browser notification only when the tab is hidden", async () => {
    await store.handle(ev("conversation.created", { conversation: conv(20) }));
    expect(browser).not.toHaveBeenCalled();
    const hidden = vi.spyOn(document, "hidden", "get").mockReturnValue(true);
    await store.handle(ev("conversation.created", { conversation: conv(21) }));
    expect(browser).toHaveBeenCalledTimes(1);
    hidden.mockRestore();
  });

  it("plays no sound when the agent turned sound off", async () => {
    const session = useSession();
    session.me = { ...session.me!, preferences: { ...session.me!.preferences, sound: false } };
    await store.handle(ev("conversation.created", { conversation: conv(22) }));
    expect(store.toasts).toHaveLength(1);
    expect(sound).not.toHaveBeenCalled();
  });

  it("says nothing of new unassigned chats to an agent who is away or offline, but still of their own", async () => {
    for (const status of ["away", "offline"] as const) {
      usePresence().myStatus = status;
      remote.set(20, conv(20, { assignee_id: null }));
      remote.set(21, conv(21, { assignee_id: ME }));
      await store.handle(ev("conversation.created", { conversation: conv(20) }));
      await store.handle(ev("message.created", { message: msg({ conversation_id: 20 }) }));
      expect(store.toasts).toHaveLength(0);
      expect(sound).not.toHaveBeenCalled();
      await store.handle(ev("message.created", { message: msg({ conversation_id: 21, text: "mine" }) }));
      expect(store.toasts.map((x) => [x.conversationId, x.kind])).toEqual([[21, "new_message"]]);
      store.clear();
      sound.mockClear();
    }
    usePresence().myStatus = "online";
    await store.handle(ev("conversation.created", { conversation: conv(22) }));
    expect(store.toasts.map((x) => x.kind)).toEqual(["new_conversation"]);
  });
});

describe("mentions and assignments", () => {
  it("notifies a note that mentions me, not one I wrote", async () => {
    remote.set(30, conv(30, { assignee_id: OTHER }));
    await store.handle(ev("message.created", { message: msg({ conversation_id: 30, kind: "note", sender_type: "agent", sender_id: ME, data: { mentions: [ME] } }) }));
    expect(store.toasts).toHaveLength(0);
    await store.handle(ev("message.created", { message: msg({ conversation_id: 30, kind: "note", sender_type: "agent", sender_id: OTHER, data: { mentions: [3] } }) }));
    expect(store.toasts).toHaveLength(0);
    await store.handle(ev("message.created", { message: msg({ conversation_id: 30, kind: "note", sender_type: "agent", sender_id: OTHER, text: "@Me look", data: { mentions: [ME] } }) }));
    expect(store.toasts.map((x) => [x.kind, x.text, x.contactName])).toEqual([["mention", "@Me look", "Contact 30"]]);
  });

  it("notifies a conversation newly assigned to me by a teammate", async () => {
    await store.handle(ev("conversation.updated", { conversation: conv(31, { assignee_id: OTHER }) }));
    await store.handle(ev("message.created", { message: msg({ conversation_id: 31, kind: "activity", sender_type: "agent", sender_id: OTHER, data: { activity: "assigned", assignee_id: ME, comment: "yours" } }) }));
    await store.handle(ev("conversation.updated", { conversation: conv(31, { assignee_id: ME }) }));
    expect(store.toasts.map((x) => [x.kind, x.conversationId, x.text])).toEqual([["assignment", 31, "yours"]]);
    expect(sound).toHaveBeenCalledTimes(1);
    // Later updates of a conversation that was already mine say nothing more.
    vi.advanceTimersByTime(TOAST_MS + 1);
    await store.handle(ev("conversation.updated", { conversation: conv(31, { assignee_id: ME, unread_count: 4 }) }));
    expect(store.toasts).toHaveLength(0);
  });

  it("does not notify me when I assign a conversation to myself", async () => {
    await store.handle(ev("conversation.updated", { conversation: conv(32) }));
    await store.handle(ev("message.created", { message: msg({ conversation_id: 32, kind: "activity", sender_type: "agent", sender_id: ME, data: { activity: "assigned", assignee_id: ME } }) }));
    await store.handle(ev("conversation.updated", { conversation: conv(32, { assignee_id: ME }) }));
    expect(store.toasts).toHaveLength(0);
  });

  it("takes back an assignment toast when my own activity line arrives after the update", async () => {
    await store.handle(ev("conversation.updated", { conversation: conv(33) }));
    await store.handle(ev("conversation.updated", { conversation: conv(33, { assignee_id: ME }) }));
    expect(store.toasts).toHaveLength(1);
    await store.handle(ev("message.created", { message: msg({ conversation_id: 33, kind: "activity", sender_type: "agent", sender_id: ME, data: { activity: "assigned", assignee_id: ME } }) }));
    expect(store.toasts).toHaveLength(0);
  });
});

describe("offered chats (Later)", () => {
  const offer = (over: Record<string, unknown> = {}) =>
    ev("conversation.offered", { conversation_id: 40, offered_by: OTHER, contact_name: "Visitor 40", preview: "Can you help?", inbox_id: 3, ...over });

  it("shows the offer to other online agents and keeps re-notifying until someone is assigned", async () => {
    await store.handle(ev("conversation.updated", { conversation: conv(40) }));
    await store.handle(offer());
    expect(store.toasts.map((x) => [x.kind, x.contactName, x.text])).toEqual([["offered", "Visitor 40", "Can you help?"]]);
    expect(sound).toHaveBeenCalledTimes(1);
    // Offered toasts do not time out.
    vi.advanceTimersByTime(TOAST_MS * 3);
    expect(store.toasts).toHaveLength(1);
    expect(sound).toHaveBeenCalledTimes(1 + Math.floor((TOAST_MS * 3) / REOFFER_MS));
    // Closed by hand, it comes back at the next round.
    store.dismiss(store.toasts[0]!.id);
    const before = sound.mock.calls.length;
    vi.advanceTimersByTime(REOFFER_MS);
    expect(store.toasts).toHaveLength(1);
    expect(sound.mock.calls.length).toBe(before + 1);
    // A teammate takes it: the toast goes and the reminders stop.
    await store.handle(ev("conversation.updated", { conversation: conv(40, { assignee_id: OTHER }) }));
    expect(store.toasts).toHaveLength(0);
    const after = sound.mock.calls.length;
    vi.advanceTimersByTime(REOFFER_MS * 4);
    expect(sound.mock.calls.length).toBe(after);
    expect(store.toasts).toHaveLength(0);
  });

  it("ignores my own offer", async () => {
    await store.handle(offer({ offered_by: ME }));
    vi.advanceTimersByTime(REOFFER_MS * 2);
    expect(store.toasts).toHaveLength(0);
    expect(sound).not.toHaveBeenCalled();
  });

  it("is not shown to an agent who is away", async () => {
    usePresence().myStatus = "away";
    await store.handle(offer());
    expect(store.toasts).toHaveLength(0);
  });

  it("stops when I open the conversation", async () => {
    await store.handle(offer());
    store.setOpen(40);
    expect(store.toasts).toHaveLength(0);
    vi.advanceTimersByTime(REOFFER_MS * 3);
    expect(store.toasts).toHaveLength(0);
    expect(sound).toHaveBeenCalledTimes(1);
  });

  it("stops when a teammate opens it (it is marked read)", async () => {
    await store.handle(ev("conversation.updated", { conversation: conv(40, { unread_count: 2 }) }));
    await store.handle(offer());
    await store.handle(ev("conversation.updated", { conversation: conv(40, { unread_count: 0 }) }));
    expect(store.toasts).toHaveLength(0);
    vi.advanceTimersByTime(REOFFER_MS * 2);
    expect(store.toasts).toHaveLength(0);
  });

  it("is not shown for a conversation already assigned", async () => {
    await store.handle(ev("conversation.updated", { conversation: conv(40, { assignee_id: OTHER }) }));
    await store.handle(offer());
    expect(store.toasts).toHaveLength(0);
  });
});

describe("toast buttons", () => {
  it("Quick reply posts a public reply and closes the toast", async () => {
    await store.handle(ev("conversation.created", { conversation: conv(50) }));
    await store.quickReply(store.toasts[0]!, "On my way");
    expect(sendMock).toHaveBeenCalledWith("POST", "/api/v1/workspaces/7/conversations/50/messages", { text: "On my way", private: false });
    expect(store.toasts).toHaveLength(0);
  });

  it("Later offers the conversation and closes the toast", async () => {
    await store.handle(ev("conversation.created", { conversation: conv(51) }));
    await store.later(store.toasts[0]!);
    expect(sendMock).toHaveBeenCalledWith("POST", "/api/v1/workspaces/7/conversations/51/offer");
    expect(store.toasts).toHaveLength(0);
  });
});
