// The open conversations' threads: messages per conversation, kept after the agent leaves so
// switching back is instant, and kept live from the stream (new messages, delivery receipts,
// typing). Sending shows an optimistic message at once and swaps it for the server's.
import { defineStore } from "pinia";
import { reactive, ref, watch } from "vue";
import { ApiError, send } from "@/api/client";
import type { Message, StreamEvent } from "@/api/types";
import { dayKey } from "@/composables/format";
import { useSession } from "./session";

export type DeliveryStatus = "queued" | "sent" | "delivered" | "read" | "failed" | "cancelled";

/** A message as the thread shows it: the server's, or an optimistic one (negative id) not yet answered. */
export interface ThreadMessage extends Message {
  /** Set on optimistic messages: the temporary id's marker. */
  pending?: boolean;
}

export interface Thread {
  messages: ThreadMessage[];
  nextBefore: number | null;
  loaded: boolean;
  loadingOlder: boolean;
  error: string | null;
  /** user id → when the "is typing" mark expires (ms since epoch). */
  typing: Record<number, number>;
  /** When the contact's own "is typing" mark expires (ms since epoch; 0: not typing). Website
   * visitors type in the widget: their typing events carry contact_id and no user_id. */
  contactTyping: number;
}

const RANK: Record<DeliveryStatus, number> = { queued: 0, sent: 1, delivered: 2, read: 3, failed: 4, cancelled: 5 };

/**
 * Whether a delivery status may replace another: queued → sent → delivered → read; failed only
 * from queued or sent, and final — unless the agent asked for a retry (failed → queued);
 * cancelled only from queued or failed, and final.
 */
export function statusMayAdvance(current: string | null, next: string | null, retrying = false): boolean {
  if (next === null || next === current) return false;
  if (current === null) return true;
  if (current === "cancelled") return false;
  if (next === "cancelled") return current === "queued" || current === "failed";
  if (current === "failed") return retrying && next === "queued";
  if (next === "failed") return current === "queued" || current === "sent";
  const a = RANK[current as DeliveryStatus];
  const b = RANK[next as DeliveryStatus];
  if (a === undefined || b === undefined) return false;
  return b > a;
}

/**
 * Merges one message into a thread (sorted by id, optimistic ones last): a known id is updated
 * (delivery status only forward), an unknown one inserted; an optimistic message of the same
 * conversation, kind and text is replaced by the server's. Returns the new list.
 */
export function mergeMessage(list: ThreadMessage[], incoming: Message, retrying = false): ThreadMessage[] {
  const index = list.findIndex((m) => m.id === incoming.id);
  if (index >= 0) {
    const current = list[index]!;
    const next: ThreadMessage = { ...current, ...incoming };
    if (current.kind === "outgoing" && !deliveryMayReplace(current, incoming, retrying)) {
      for (const key of DELIVERY_FIELDS) (next as unknown as Record<string, unknown>)[key] = current[key];
    }
    const out = list.slice();
    out[index] = next;
    return out;
  }
  let out = list;
  const optimistic = list.findIndex(
    (m) => m.pending && m.kind === incoming.kind && m.text === incoming.text && incoming.sender_type === "agent",
  );
  if (optimistic >= 0) out = list.filter((_, i) => i !== optimistic);
  const confirmed = out.filter((m) => !m.pending);
  const pendings = out.filter((m) => m.pending);
  let at = confirmed.length;
  while (at > 0 && confirmed[at - 1]!.id > incoming.id) at -= 1;
  confirmed.splice(at, 0, { ...incoming });
  return confirmed.concat(pendings);
}

/** What a message's delivery state is made of: replaced together or not at all. */
const DELIVERY_FIELDS = ["delivery_status", "failure_reason", "failure_detail", "delivery_attempts", "next_attempt_at"] as const;

/**
 * Whether an incoming copy's delivery state may replace the one shown: a status that moves
 * forward, or the same status with at least as many attempts (a reply waiting between attempts
 * learns of each failed attempt, and of an agent's "retry now", in the same status).
 */
export function deliveryMayReplace(current: Message, incoming: Message, retrying = false): boolean {
  if (incoming.delivery_status !== null && incoming.delivery_status === current.delivery_status) {
    return (incoming.delivery_attempts ?? 0) >= (current.delivery_attempts ?? 0);
  }
  return statusMayAdvance(current.delivery_status, incoming.delivery_status, retrying);
}

/** A reply waiting between delivery attempts (the worker will try again at next_attempt_at). */
export function isWaiting(m: Message): boolean {
  return m.kind === "outgoing" && m.delivery_status === "queued" && !!m.next_attempt_at;
}

export type ThreadItem =
  | { type: "day"; key: string; at: string }
  | { type: "message"; key: string; message: ThreadMessage };

/** The thread with a day separator before the first message of each local calendar day. */
export function groupByDay(messages: ThreadMessage[]): ThreadItem[] {
  const items: ThreadItem[] = [];
  let last = "";
  for (const m of messages) {
    const day = dayKey(m.created_at);
    if (day !== last) {
      items.push({ type: "day", key: `day-${day}`, at: m.created_at });
      last = day;
    }
    items.push({ type: "message", key: `m-${m.id}`, message: m });
  }
  return items;
}

let tempId = 0;

/** Waits before sending a post again whose answer was lost (the connection dropped). */
export const REPOST_DELAYS_MS = [1000, 3000];

/** Posts a message; when the connection drops before the answer, sends it again with the same
 * client_id: the server stores it once and answers the repeat with the first message. */
async function postOnce(url: string, body: { text: string; private: boolean; client_id: string }): Promise<Message> {
  for (let attempt = 0; ; attempt++) {
    try {
      return (await send("POST", url, body)) as Message;
    } catch (e) {
      const lost = e instanceof ApiError && e.status === 0;
      if (!lost || attempt >= REPOST_DELAYS_MS.length) throw e;
      await new Promise((resolve) => setTimeout(resolve, REPOST_DELAYS_MS[attempt]));
    }
  }
}

/** The key a reply is stored once by (the server answers a repeat with the first message). */
export function newClientId(): string {
  const random =
    typeof crypto !== "undefined" && "randomUUID" in crypto ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
  return `d-${random}`;
}

export const TYPING_TTL_MS = 6000;

export const useThread = defineStore("thread", () => {
  const threads = reactive(new Map<number, Thread>());
  /** Messages the agent asked to retry: their next "queued" is accepted after "failed". */
  const retrying = new Set<number>();
  const subscribed = ref(false);

  function base(conversationId: number): string {
    return `/api/v1/workspaces/${useSession().workspaceId}/conversations/${conversationId}`;
  }

  function thread(conversationId: number): Thread {
    let t = threads.get(conversationId);
    if (!t) {
      threads.set(conversationId, { messages: [], nextBefore: null, loaded: false, loadingOlder: false, error: null, typing: {}, contactTyping: 0 });
      t = threads.get(conversationId)!;
    }
    return t;
  }

  function peek(conversationId: number): Thread | undefined {
    return threads.get(conversationId);
  }

  /** Loads the newest page unless the thread is already cached (then it is kept live by the stream). */
  async function open(conversationId: number, force = false): Promise<void> {
    subscribe();
    const t = thread(conversationId);
    if (t.loaded && !force) return;
    t.error = null;
    try {
      const page = (await send("GET", `${base(conversationId)}/messages?limit=50`)) as {
        messages: Message[];
        next_before: number | null;
      };
      let list: ThreadMessage[] = t.messages.filter((m) => m.pending);
      for (const m of page.messages) list = mergeMessage(list, m);
      // Live messages that arrived while the page was loading stay.
      for (const m of t.messages) if (!m.pending) list = mergeMessage(list, m);
      t.messages = list;
      t.nextBefore = page.next_before;
      t.loaded = true;
    } catch (e) {
      t.error = e instanceof Error ? e.message : String(e);
    }
  }

  /** Loads the page of older messages; false when there is none. */
  async function loadOlder(conversationId: number): Promise<boolean> {
    const t = thread(conversationId);
    if (t.nextBefore === null || t.loadingOlder) return false;
    t.loadingOlder = true;
    try {
      const page = (await send("GET", `${base(conversationId)}/messages?limit=50&before=${t.nextBefore}`)) as {
        messages: Message[];
        next_before: number | null;
      };
      let list = t.messages;
      for (const m of page.messages) list = mergeMessage(list, m);
      t.messages = list;
      t.nextBefore = page.next_before;
      return page.messages.length > 0;
    } finally {
      t.loadingOlder = false;
    }
  }

  /** Applies a message from the stream or an API answer to its thread if that thread is cached. */
  function apply(message: Message): void {
    const t = threads.get(message.conversation_id);
    if (!t) return;
    const wasRetrying = retrying.has(message.id);
    t.messages = mergeMessage(t.messages, message, wasRetrying);
    if (wasRetrying && message.delivery_status === "queued") retrying.delete(message.id);
    if (message.sender_type === "agent" && message.sender_id !== null) delete t.typing[message.sender_id];
    if (message.kind === "incoming") t.contactTyping = 0;
  }

  function onTyping(event: StreamEvent): void {
    const data = event.data as { conversation_id?: number; user_id?: number | null; contact_id?: number; typing?: boolean };
    if (typeof data.conversation_id !== "number") return;
    if (typeof data.user_id !== "number") {
      if (typeof data.contact_id !== "number") return;
      const ct = threads.get(data.conversation_id);
      if (ct) ct.contactTyping = data.typing === false ? 0 : Date.now() + TYPING_TTL_MS;
      return;
    }
    if (data.user_id === useSession().me?.id) return;
    const t = threads.get(data.conversation_id);
    if (!t) return;
    if (data.typing === false) delete t.typing[data.user_id];
    else t.typing[data.user_id] = Date.now() + TYPING_TTL_MS;
  }

  /** Who is typing now in a conversation (expired marks left out). */
  function typingUsers(conversationId: number, now = Date.now()): number[] {
    const t = threads.get(conversationId);
    if (!t) return [];
    return Object.entries(t.typing)
      .filter(([, until]) => until > now)
      .map(([id]) => Number(id));
  }

  /** Whether the conversation's contact is typing now (a website visitor in the widget). */
  function contactTyping(conversationId: number, now = Date.now()): boolean {
    return (threads.get(conversationId)?.contactTyping ?? 0) > now;
  }

  function subscribe(): void {
    if (subscribed.value) return;
    subscribed.value = true;
    const session = useSession();
    const attach = (): void => {
      const s = session.stream;
      if (!s) return;
      const onMessage = (e: StreamEvent): void => {
        const m = (e.data as { message?: Message }).message;
        if (m) apply(m);
      };
      s.on("message.created", onMessage);
      s.on("message.updated", onMessage);
      s.on("typing", onTyping);
    };
    if (session.stream) attach();
    else {
      const stop = watch(
        () => session.stream,
        (s) => {
          if (!s) return;
          attach();
          stop();
        },
      );
    }
  }

  /** Sends a reply or note: an optimistic message now, the server's when it answers. */
  async function sendMessage(conversationId: number, text: string, isPrivate: boolean, files: File[] = []): Promise<Message> {
    const t = thread(conversationId);
    const me = useSession().me;
    tempId -= 1;
    const temp: ThreadMessage = {
      id: tempId,
      conversation_id: conversationId,
      inbox_id: 0,
      kind: isPrivate ? "note" : "outgoing",
      sender_type: "agent",
      sender_id: me?.id ?? null,
      text,
      content_type: "text",
      source_id: null,
      delivery_status: isPrivate ? null : "queued",
      failure_reason: null,
      failure_detail: null,
      delivery_attempts: 0,
      next_attempt_at: null,
      data: files.length
        ? { attachments: files.map((f) => ({ file_name: f.name, content_type: f.type, size: f.size, url: "" })) }
        : {},
      annotations: [],
      created_at: new Date().toISOString(),
      pending: true,
    };
    t.messages = [...t.messages, temp];
    try {
      let message: Message;
      if (files.length) {
        const form = new FormData();
        for (const f of files) form.append("file", f, f.name);
        form.append("text", text);
        form.append("private", isPrivate ? "true" : "false");
        message = (await send("POST", `${base(conversationId)}/attachments`, form)) as Message;
      } else {
        message = await postOnce(`${base(conversationId)}/messages`, { text, private: isPrivate, client_id: newClientId() });
      }
      const list = t.messages.filter((m) => m.id !== temp.id);
      t.messages = mergeMessage(list, message);
      return message;
    } catch (e) {
      t.messages = t.messages.filter((m) => m.id !== temp.id);
      throw e;
    }
  }

  async function retry(conversationId: number, messageId: number): Promise<void> {
    retrying.add(messageId);
    let answer: unknown;
    try {
      answer = await send("POST", `${base(conversationId)}/messages/${messageId}/retry`);
    } catch (e) {
      retrying.delete(messageId);
      throw e;
    }
    const t = threads.get(conversationId);
    const m = t?.messages.find((x) => x.id === messageId);
    const fromServer = answer && typeof answer === "object" && (answer as Message).id === messageId ? (answer as Message) : null;
    if (t && m && (m.delivery_status === "failed" || isWaiting(m))) {
      const assumed: Message = m.delivery_status === "failed"
        ? { ...m, delivery_status: "queued", failure_reason: null, failure_detail: null, next_attempt_at: null }
        : { ...m, next_attempt_at: null };
      t.messages = mergeMessage(t.messages, fromServer ?? assumed, true);
    }
    retrying.delete(messageId);
  }

  /** Stops a reply that has not gone out: the server marks it cancelled and never sends it. */
  async function cancel(conversationId: number, messageId: number): Promise<void> {
    const answer = await send("POST", `${base(conversationId)}/messages/${messageId}/cancel`);
    if (answer && typeof answer === "object" && (answer as Message).id === messageId) apply(answer as Message);
  }

  return { threads, thread, peek, open, loadOlder, apply, onTyping, typingUsers, contactTyping, subscribe, sendMessage, retry, cancel };
});
