import { describe, expect, it } from "vitest";
import { MessageList } from "../src/messages";
import type { WidgetMessage } from "../src/types";

function server(id: number, extra: Partial<WidgetMessage> = {}): WidgetMessage {
  return {
    id,
    client_id: null,
    direction: "agent",
    text: `message ${id}`,
    content_type: "text",
    attachments: [],
    sender_name: "Ayşe",
    created_at: "2026-11-24T17:00:00+00:00",
    ...extra,
  };
}

const mine = (id: number, clientId: string, text = "hi") => server(id, { client_id: clientId, direction: "visitor", text, sender_name: null });

describe("MessageList", () => {
  it("keeps one copy when the ack and the echo of a visitor's message both arrive", () => {
    const list = new MessageList();
    list.addPending("c-1", "hi");
    expect(list.merge(mine(5, "c-1"))).toBe(false); // the ack fills the pending message in
    expect(list.merge(mine(5, "c-1"))).toBe(false); // the echo is the same message
    expect(list.all()).toHaveLength(1);
    expect(list.all()[0]).toMatchObject({ id: 5, status: "sent", key: "c-1" });
  });

  it("keeps one copy when the echo comes before the ack", () => {
    const list = new MessageList();
    list.addPending("c-1", "hi");
    list.merge(mine(5, "c-1"));
    list.confirm("c-1", 5); // the HTTP answer, late
    expect(list.all().map((m) => m.id)).toEqual([5]);
  });

  it("drops the pending copy when a poll stored the message under its id first", () => {
    const list = new MessageList();
    list.addPending("c-1", "hi");
    list.merge(server(5, { direction: "visitor", client_id: "c-other" })); // not ours
    list.merge(mine(6, "c-9")); // from another tab
    list.confirm("c-1", 6);
    expect(list.all().filter((m) => m.id === 6)).toHaveLength(1);
  });

  it("ignores a poll or a ready frame that repeats known messages, and says which are new", () => {
    const list = new MessageList();
    expect(list.merge(server(1))).toBe(true);
    expect(list.merge(server(2))).toBe(true);
    expect(list.merge(server(1))).toBe(false);
    expect(list.merge(server(2, { text: "edited" }))).toBe(false);
    expect(list.all().map((m) => m.text)).toEqual(["message 1", "edited"]);
  });

  it("orders by id, with messages still sending last in the order written", () => {
    const list = new MessageList();
    list.addPending("c-a", "first");
    list.addPending("c-b", "second");
    list.merge(server(9));
    list.merge(server(3));
    expect(list.all().map((m) => m.id ?? m.text)).toEqual([3, 9, "first", "second"]);
    list.merge(mine(12, "c-b", "second"));
    expect(list.all().map((m) => m.id ?? m.text)).toEqual([3, 9, 12, "first"]);
    expect(list.lastId()).toBe(12);
    expect(list.lastAgentId()).toBe(9);
  });

  it("marks the visitor's stored messages seen, and seen is never lowered by a repeat", () => {
    const list = new MessageList();
    list.addPending("c-1", "one");
    list.merge(mine(4, "c-1", "one"));
    list.addPending("c-2", "two");
    list.markSeen();
    expect(list.all().map((m) => m.status)).toEqual(["seen", "sending"]);
    list.merge(mine(4, "c-1", "one")); // a poll repeats it
    expect(list.byClientId("c-1")?.status).toBe("seen");
  });

  it("lists unsent messages for the HTTP fallback, and can fail or remove them", () => {
    const list = new MessageList();
    list.addPending("c-1", "one");
    list.addPending("c-2", "two");
    list.addPending("c-3", "", "photo.png"); // uploads have their own request
    expect(list.unsent().map((m) => m.client_id)).toEqual(["c-1", "c-2"]);
    list.fail("c-1");
    expect(list.byClientId("c-1")?.status).toBe("failed");
    expect(list.remove("c-2")?.text).toBe("two");
    expect(list.unsent()).toEqual([]);
  });

  it("does not confuse two visitors' messages with the same client id once stored", () => {
    const list = new MessageList();
    list.merge(mine(1, "c-1", "old"));
    list.addPending("c-1", "new"); // the server's id decides; a stored message is never overwritten
    list.merge(mine(2, "c-1", "new"));
    expect(list.all().map((m) => [m.id, m.text])).toEqual([
      [1, "old"],
      [2, "new"],
    ]);
  });

  it("keeps its own key and status when a frame carries extra fields", () => {
    const list = new MessageList();
    list.addPending("c-1", "hi");
    list.merge({ ...mine(5, "c-1"), key: "m999", status: "failed" } as WidgetMessage);
    expect(list.all()[0]).toMatchObject({ key: "c-1", status: "sent", id: 5 });
  });
});
