// The visitor's view of the conversation. A message can reach the widget several times: the
// socket's ack and the server's echo of the visitor's own message, an HTTP answer, a poll, the
// `ready` frame after a reconnect. Merging by id and by client_id keeps exactly one copy.
import type { Attachment, WidgetMessage } from "./types";

export type Status = "sending" | "sent" | "seen" | "failed";

export interface ChatMessage {
  key: string; // stable for rendering: the client id when there is one, else "m<id>"
  id: number | null;
  client_id: string | null;
  direction: "visitor" | "agent";
  text: string;
  content_type: string;
  attachments: Attachment[];
  sender_name: string | null;
  created_at: string;
  status: Status;
  /** a file being uploaded: shown by name until the server's message replaces it */
  pending_file?: string;
}

const RANK: Record<Status, number> = { failed: 0, sending: 1, sent: 2, seen: 3 };

/** Only the protocol's fields: whatever else a frame carries never overwrites our own (key, status). */
function fields(m: WidgetMessage): WidgetMessage {
  const { id, client_id, direction, text, content_type, attachments, sender_name, created_at } = m;
  return { id, client_id, direction, text, content_type, attachments: attachments ?? [], sender_name, created_at };
}

export class MessageList {
  private items: ChatMessage[] = [];

  all(): readonly ChatMessage[] {
    return this.items;
  }

  /** The highest server id known: what `hello` and the poll ask to continue from. */
  lastId(): number {
    return this.items.reduce((max, m) => (m.id !== null && m.id > max ? m.id : max), 0);
  }

  lastAgentId(): number {
    return this.items.reduce((max, m) => (m.direction === "agent" && m.id !== null && m.id > max ? m.id : max), 0);
  }

  byClientId(clientId: string): ChatMessage | undefined {
    return this.items.find((m) => m.client_id === clientId);
  }

  /** A message the visitor has just written, before the server has it. */
  addPending(clientId: string, text: string, file?: string): ChatMessage {
    const message: ChatMessage = {
      key: clientId,
      id: null,
      client_id: clientId,
      direction: "visitor",
      text,
      content_type: "text",
      attachments: [],
      sender_name: null,
      created_at: new Date().toISOString(),
      status: "sending",
      pending_file: file,
    };
    this.items.push(message);
    return message;
  }

  /** Adds or updates a message from the server; returns true when it was not known before. */
  merge(incoming: WidgetMessage): boolean {
    const existing =
      this.items.find((m) => m.id === incoming.id) ??
      (incoming.client_id ? this.items.find((m) => m.client_id === incoming.client_id && m.id === null) : undefined);
    if (existing) {
      const status = existing.direction === "visitor" && RANK[existing.status] > RANK.sent ? existing.status : "sent";
      Object.assign(existing, fields(incoming), { status, pending_file: undefined });
      this.sort();
      return false;
    }
    this.items.push({ ...fields(incoming), key: incoming.client_id ?? `m${incoming.id}`, status: "sent" });
    this.sort();
    return true;
  }

  /** The server id of a message whose HTTP answer carried only ids. */
  confirm(clientId: string, id: number): void {
    const message = this.byClientId(clientId);
    if (!message || message.id !== null) return;
    if (this.items.some((m) => m.id === id)) {
      // The echo came first and was stored under its id: drop the pending copy.
      this.items = this.items.filter((m) => m !== message);
      return;
    }
    message.id = id;
    message.status = "sent";
    this.sort();
  }

  fail(clientId: string): void {
    const message = this.byClientId(clientId);
    if (message && message.id === null) message.status = "failed";
  }

  remove(clientId: string): ChatMessage | undefined {
    const message = this.byClientId(clientId);
    if (message && message.id === null) this.items = this.items.filter((m) => m !== message);
    return message;
  }

  /** Agents have read everything the visitor sent that the server has. */
  markSeen(): void {
    for (const m of this.items) if (m.direction === "visitor" && m.id !== null) m.status = "seen";
  }

  /** Messages still waiting for the server, to send again over another path. */
  unsent(): ChatMessage[] {
    return this.items.filter((m) => m.id === null && m.status === "sending" && !m.pending_file);
  }

  /** Server messages in id order; messages still without an id stay last, in the order written. */
  private sort(): void {
    const indexed = this.items.map((m, i) => ({ m, i }));
    indexed.sort((a, b) => {
      if (a.m.id !== null && b.m.id !== null) return a.m.id - b.m.id;
      if (a.m.id === null && b.m.id === null) return a.i - b.i;
      return a.m.id === null ? 1 : -1;
    });
    this.items = indexed.map((x) => x.m);
  }
}
