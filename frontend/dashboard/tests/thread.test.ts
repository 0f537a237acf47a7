// The thread store: merging live events (dedupe, optimistic replacement, delivery status only
// forward), day grouping, sending, retry and typing.
import { createPinia, setActivePinia } from "pinia";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Message } from "@/api/types";
import { Stream } from "@/realtime/socket";
import { useSession } from "@/stores/session";
import { groupByDay, mergeMessage, statusMayAdvance, useThread, type ThreadMessage } from "@/stores/thread";

function msg(id: number, extra: Partial<Message> = {}): Message {
  return {
    id,
    conversation_id: 7,
    inbox_id: 1,
    kind: "outgoing",
    sender_type: "agent",
    sender_id: 1,
    text: `text ${id}`,
    content_type: "text",
    source_id: null,
    delivery_status: "queued",
    failure_reason: null, failure_detail: null, delivery_attempts: 0, next_attempt_at: null,
    annotations: [],
    data: {},
    created_at: "2026-03-02T10:00:00Z",
    ...extra,
  };
}

function event(type: string, data: Record<string, unknown>, seq: number | null = null) {
  return { seq, type, workspace_id: 1, inbox_id: 1, data };
}

describe("statusMayAdvance", () => {
  it("moves only forward along queued → sent → delivered → read", () => {
    expect(statusMayAdvance("queued", "sent")).toBe(true);
    expect(statusMayAdvance("sent", "read")).toBe(true);
    expect(statusMayAdvance("delivered", "sent")).toBe(false);
    expect(statusMayAdvance("read", "delivered")).toBe(false);
    expect(statusMayAdvance("sent", "sent")).toBe(false);
  });
  it("accepts failed only from queued or sent, and keeps it", () => {
    expect(statusMayAdvance("queued", "failed")).toBe(true);
    expect(statusMayAdvance("sent", "failed")).toBe(true);
    expect(statusMayAdvance("delivered", "failed")).toBe(false);
    expect(statusMayAdvance("failed", "sent")).toBe(false);
    expect(statusMayAdvance("failed", "queued")).toBe(false);
    expect(statusMayAdvance("failed", "queued", true)).toBe(true);
  });
});

describe("mergeMessage", () => {
  it("dedupes by id and keeps the list sorted by id", () => {
    let list: ThreadMessage[] = [];
    list = mergeMessage(list, msg(5));
    list = mergeMessage(list, msg(3));
    list = mergeMessage(list, msg(5));
    list = mergeMessage(list, msg(9));
    expect(list.map((m) => m.id)).toEqual([3, 5, 9]);
  });

  it("never moves a delivery status back, but takes other fields", () => {
    let list = mergeMessage([], msg(1, { delivery_status: "delivered" }));
    list = mergeMessage(list, msg(1, { delivery_status: "sent", source_id: "abc" }));
    expect(list[0]!.delivery_status).toBe("delivered");
    expect(list[0]!.source_id).toBe("abc");
    list = mergeMessage(list, msg(1, { delivery_status: "failed", failure_reason: "timeout" }));
    expect(list[0]!.delivery_status).toBe("delivered");
    expect(list[0]!.failure_reason).toBeNull();
    list = mergeMessage(list, msg(1, { delivery_status: "read" }));
    expect(list[0]!.delivery_status).toBe("read");
  });

  it("takes each attempt of a reply waiting to be retried, never an older one, and a cancel", () => {
    const waiting = (attempts: number, next: string | null) =>
      msg(1, { kind: "outgoing", delivery_status: "queued", delivery_attempts: attempts, next_attempt_at: next, failure_reason: "timeout", failure_detail: `try ${attempts}` });
    let list = mergeMessage([], msg(1, { kind: "outgoing", delivery_status: "queued" }));
    list = mergeMessage(list, waiting(2, "2026-03-02T10:10:00Z"));
    expect(list[0]).toMatchObject({ delivery_attempts: 2, next_attempt_at: "2026-03-02T10:10:00Z", failure_detail: "try 2" });
    list = mergeMessage(list, waiting(1, "2026-03-02T10:01:00Z")); // a late copy of the first failure
    expect(list[0]).toMatchObject({ delivery_attempts: 2, next_attempt_at: "2026-03-02T10:10:00Z", failure_detail: "try 2" });
    list = mergeMessage(list, waiting(2, null)); // an agent's "retry now"
    expect(list[0]!.next_attempt_at).toBeNull();
    list = mergeMessage(list, msg(1, { kind: "outgoing", delivery_status: "cancelled", delivery_attempts: 2 }));
    expect(list[0]!.delivery_status).toBe("cancelled");
    list = mergeMessage(list, waiting(3, "2026-03-02T10:40:00Z"));
    expect(list[0]!.delivery_status).toBe("cancelled");
    expect(statusMayAdvance("failed", "cancelled")).toBe(true);
    expect(statusMayAdvance("sent", "cancelled")).toBe(false);
  });

  it("replaces the optimistic message of the same text and keeps optimistic ones last", () => {
    const temp: ThreadMessage = { ...msg(-1, { text: "hello" }), pending: true };
    const other: ThreadMessage = { ...msg(-2, { text: "second" }), pending: true };
    let list: ThreadMessage[] = [msg(4), temp, other];
    list = mergeMessage(list, msg(10, { text: "hello" }));
    expect(list.map((m) => m.id)).toEqual([4, 10, -2]);
    // An incoming message from the contact with the same text does not replace anything.
    list = mergeMessage(list, msg(11, { text: "second", kind: "incoming", sender_type: "contact", delivery_status: null }));
    expect(list.map((m) => m.id)).toEqual([4, 10, 11, -2]);
  });
});

describe("groupByDay", () => {
  it("puts a separator before the first message of each day", () => {
    const items = groupByDay([
      msg(1, { created_at: "2026-03-01T09:00:00" }),
      msg(2, { created_at: "2026-03-01T18:00:00" }),
      msg(3, { created_at: "2026-03-03T08:00:00" }),
    ]);
    expect(items.map((i) => i.type)).toEqual(["day", "message", "message", "day", "message"]);
    expect(groupByDay([])).toEqual([]);
  });
});

describe("useThread", () => {
  let stream: Stream;
  const fetchMock = vi.fn();

  beforeEach(() => {
    setActivePinia(createPinia());
    const session = useSession();
    session.workspaceId = 1;
    session.me = { id: 1 } as never;
    stream = new Stream(1);
    session.stream = stream;
    fetchMock.mockReset();
    vi.stubGlobal("fetch", fetchMock);
  });
  afterEach(() => vi.unstubAllGlobals());

  function answer(body: unknown, status = 200): Response {
    return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
  }

  it("loads a page once and keeps it cached; live events apply to cached threads", async () => {
    fetchMock.mockResolvedValueOnce(answer({ messages: [msg(1), msg(2)], next_before: 1 }));
    const store = useThread();
    await store.open(7);
    await store.open(7);
    expect(fetchMock).toHaveBeenCalledTimes(1);
    expect(String(fetchMock.mock.calls[0]![0])).toContain("/api/v1/workspaces/1/conversations/7/messages");
    stream.dispatch(event("message.created", { message: msg(3, { kind: "incoming", sender_type: "contact" }) }, 10));
    stream.dispatch(event("message.created", { message: msg(3, { kind: "incoming", sender_type: "contact" }) }, 11));
    stream.dispatch(event("message.updated", { message: msg(2, { delivery_status: "read" }) }, 12));
    stream.dispatch(event("message.updated", { message: msg(2, { delivery_status: "delivered" }) }, 13));
    // Another conversation's message is not added to this thread.
    stream.dispatch(event("message.created", { message: msg(4, { conversation_id: 8 }) }, 14));
    const t = store.peek(7)!;
    expect(t.messages.map((m) => m.id)).toEqual([1, 2, 3]);
    expect(t.messages[1]!.delivery_status).toBe("read");
    expect(t.nextBefore).toBe(1);
  });

  it("loads older pages before the oldest message", async () => {
    fetchMock.mockResolvedValueOnce(answer({ messages: [msg(5), msg(6)], next_before: 5 }));
    fetchMock.mockResolvedValueOnce(answer({ messages: [msg(3), msg(4)], next_before: null }));
    const store = useThread();
    await store.open(7);
    expect(await store.loadOlder(7)).toBe(true);
    expect(String(fetchMock.mock.calls[1]![0])).toContain("before=5");
    expect(store.peek(7)!.messages.map((m) => m.id)).toEqual([3, 4, 5, 6]);
    expect(await store.loadOlder(7)).toBe(false);
  });

  it("shows an optimistic message while sending and replaces it with the server's", async () => {
    fetchMock.mockResolvedValueOnce(answer({ messages: [], next_before: null }));
    const store = useThread();
    await store.open(7);
    let resolve!: (r: Response) => void;
    fetchMock.mockReturnValueOnce(new Promise<Response>((r) => (resolve = r)));
    const sending = store.sendMessage(7, "hi there", false);
    const t = store.peek(7)!;
    expect(t.messages).toHaveLength(1);
    expect(t.messages[0]!.pending).toBe(true);
    expect(t.messages[0]!.delivery_status).toBe("queued");
    const [, init] = fetchMock.mock.calls[1]!;
    const body = JSON.parse(String(init.body)) as { client_id: string };
    // A key per message: a repeat of this post is stored once (the server answers with the first).
    expect(body).toEqual({ text: "hi there", private: false, client_id: expect.stringMatching(/^d-.{8,}/) });
    // The stream can be faster than the POST's answer: still one message.
    stream.dispatch(event("message.created", { message: msg(20, { text: "hi there" }) }, 30));
    stream.dispatch(event("message.updated", { message: msg(20, { text: "hi there", delivery_status: "sent" }) }, 31));
    resolve(answer(msg(20, { text: "hi there" }), 201));
    await sending;
    expect(t.messages.map((m) => m.id)).toEqual([20]);
    expect(t.messages[0]!.delivery_status).toBe("sent");
    expect(t.messages[0]!.pending).toBeUndefined();
  });

  it("sends a post again with the same client_id when the connection dropped before the answer", async () => {
    fetchMock.mockResolvedValueOnce(answer({ messages: [], next_before: null }));
    const store = useThread();
    await store.open(7);
    vi.useFakeTimers();
    try {
      fetchMock.mockRejectedValueOnce(new TypeError("Failed to fetch"));
      fetchMock.mockResolvedValueOnce(answer(msg(21, { text: "are you there?" }), 200));
      const sending = store.sendMessage(7, "are you there?", false);
      await vi.advanceTimersByTimeAsync(1000);
      const sent = await sending;
      expect(sent.id).toBe(21);
      const [first, again] = fetchMock.mock.calls.slice(1).map(([, init]) => JSON.parse(String(init.body)));
      expect(again).toEqual(first);
      expect(store.peek(7)!.messages.map((m) => m.id)).toEqual([21]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("removes the optimistic message when the server refuses", async () => {
    fetchMock.mockResolvedValueOnce(answer({ messages: [], next_before: null }));
    const store = useThread();
    await store.open(7);
    fetchMock.mockResolvedValueOnce(answer({ error: { code: "conflict", message: "inbox disabled" } }, 409));
    await expect(store.sendMessage(7, "nope", false)).rejects.toThrow("inbox disabled");
    expect(store.peek(7)!.messages).toEqual([]);
  });

  it("retry lets a failed message go back to queued", async () => {
    fetchMock.mockResolvedValueOnce(answer({ messages: [msg(1, { delivery_status: "failed", failure_reason: "internal_error" })], next_before: null }));
    const store = useThread();
    await store.open(7);
    stream.dispatch(event("message.updated", { message: msg(1, { delivery_status: "queued" }) }, 40));
    expect(store.peek(7)!.messages[0]!.delivery_status).toBe("failed");
    fetchMock.mockResolvedValueOnce(new Response(null, { status: 202 }));
    await store.retry(7, 1);
    expect(String(fetchMock.mock.calls[1]![0])).toContain("/conversations/7/messages/1/retry");
    expect(store.peek(7)!.messages[0]!.delivery_status).toBe("queued");
    stream.dispatch(event("message.updated", { message: msg(1, { delivery_status: "sent" }) }, 41));
    expect(store.peek(7)!.messages[0]!.delivery_status).toBe("sent");
  });

  it("tracks who is typing, ignoring myself, until it expires or stops", async () => {
    fetchMock.mockResolvedValueOnce(answer({ messages: [], next_before: null }));
    const store = useThread();
    await store.open(7);
    stream.dispatch(event("typing", { conversation_id: 7, user_id: 2, typing: true }));
    stream.dispatch(event("typing", { conversation_id: 7, user_id: 1, typing: true }));
    expect(store.typingUsers(7)).toEqual([2]);
    expect(store.typingUsers(7, Date.now() + 60_000)).toEqual([]);
    stream.dispatch(event("typing", { conversation_id: 7, user_id: 2, typing: false }));
    expect(store.typingUsers(7)).toEqual([]);
  });
});
