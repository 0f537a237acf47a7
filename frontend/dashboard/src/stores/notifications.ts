// Incoming-chat notifications (A2): decides from the stream who is told what, keeps the toasts,
// plays the chime and raises browser notifications; re-notifies offered chats until taken.
import { defineStore } from "pinia";
import { ref } from "vue";
import { send } from "@/api/client";
import type { Conversation, Message, OfferedData, StreamEvent } from "@/api/types";
import { playBeep } from "@/components/notify/sound";
import type { Stream } from "@/realtime/socket";
import { usePresence } from "./presence";
import { useSession } from "./session";
import { useWorkspace } from "./workspace";

export type ToastKind = "new_conversation" | "new_message" | "mention" | "assignment" | "offered";

export interface Toast {
  id: number;
  kind: ToastKind;
  conversationId: number;
  contactName: string;
  inboxId: number | null;
  pageUrl: string | null;
  text: string;
  /** When it was (last) raised, ms since epoch. */
  at: number;
}

/** How long a toast stays (offered ones stay until acted on). */
export const TOAST_MS = 15_000;
/** How often an offered chat nobody took is announced again. */
export const REOFFER_MS = 30_000;
/** An assignment seen within this time after my own action on the conversation is mine. */
const OWN_ACT_MS = 5_000;
const RANK: Record<ToastKind, number> = { new_message: 0, new_conversation: 1, assignment: 2, mention: 3, offered: 4 };
const STREAM_TYPES = ["conversation.created", "conversation.updated", "message.created", "conversation.offered"];

/** The page the visitor was on, when the channel sent one with the message. */
export function pageUrlOf(data: Record<string, unknown> | undefined | null): string | null {
  if (!data) return null;
  const page = data.page as { url?: unknown } | undefined;
  for (const v of [data.page_url, data.url, page?.url]) if (typeof v === "string" && /^https?:\/\//i.test(v)) return v;
  return null;
}

export const useNotifications = defineStore("notifications", () => {
  const toasts = ref<Toast[]>([]);
  /** The conversation the agent has open (set by NotificationCenter from the route). */
  const openConversationId = ref<number | null>(null);
  /** Conversations with a running "offered" re-notification. */
  const offered = ref<Record<number, OfferedData>>({});

  const known = new Map<number, Conversation>();
  const ownActs = new Map<number, number>();
  const dismissTimers = new Map<number, ReturnType<typeof setTimeout>>();
  const offerTimers = new Map<number, ReturnType<typeof setInterval>>();
  let nextId = 1;

  /** Replaceable for tests and for the settings page's "test sound". */
  const hooks = {
    sound: (): void => void playBeep(),
    navigate: null as ((path: string) => void) | null,
    browser: (toast: Toast, title: string): void => showBrowserNotification(toast, title),
    title: (toast: Toast): string => toast.contactName,
  };

  function me(): number | null {
    return useSession().me?.id ?? null;
  }

  /** Away and offline mean "no new chats": unassigned conversations are for the agents online.
   * Conversations already mine are still announced (the agent keeps their current ones). */
  function takesNewChats(): boolean {
    return usePresence().myStatus === "online";
  }

  function wants(kind: ToastKind): boolean {
    if (kind === "offered") return true;
    return useSession().preferences.notify_on.includes(kind);
  }

  function remember(conv: Conversation): Conversation | undefined {
    const before = known.get(conv.id);
    known.set(conv.id, conv);
    if (known.size > 2000) known.delete(known.keys().next().value as number);
    return before;
  }

  async function conversation(id: number): Promise<Conversation | null> {
    const cached = known.get(id);
    if (cached) return cached;
    try {
      const conv = (await send("GET", `${useWorkspace().base()}/conversations/${id}`)) as Conversation;
      remember(conv);
      return conv;
    } catch {
      return null;
    }
  }

  function isOwnRecent(conversationId: number): boolean {
    const at = ownActs.get(conversationId);
    return at !== undefined && Date.now() - at < OWN_ACT_MS;
  }

  function showBrowserNotification(toast: Toast, title: string): void {
    if (typeof Notification === "undefined" || Notification.permission !== "granted") return;
    try {
      const n = new Notification(title, { body: toast.text, tag: `frontdesk-conversation-${toast.conversationId}` });
      n.onclick = () => {
        window.focus();
        hooks.navigate?.(`/inbox/${toast.conversationId}`);
        n.close();
      };
    } catch {
      // Some browsers only allow notifications from a service worker.
    }
  }

  function alert(toast: Toast): void {
    const prefs = useSession().preferences;
    if (prefs.sound) hooks.sound();
    if (prefs.browser_notifications && typeof document !== "undefined" && document.hidden) hooks.browser(toast, hooks.title(toast));
  }

  function armDismiss(toast: Toast): void {
    const old = dismissTimers.get(toast.id);
    if (old) clearTimeout(old);
    dismissTimers.delete(toast.id);
    if (toast.kind === "offered") return;
    dismissTimers.set(
      toast.id,
      setTimeout(() => dismiss(toast.id), TOAST_MS),
    );
  }

  /** Shows (or refreshes) the toast of a conversation: one toast per conversation. */
  function notify(input: Omit<Toast, "id" | "at">, { force = false } = {}): Toast | null {
    if (!wants(input.kind)) return null;
    if (input.conversationId === openConversationId.value) return null;
    const now = Date.now();
    const existing = toasts.value.find((x) => x.conversationId === input.conversationId);
    if (existing) {
      const fresh = now - existing.at < 2_000;
      if (RANK[input.kind] >= RANK[existing.kind]) existing.kind = input.kind;
      existing.text = input.text || existing.text;
      existing.contactName = input.contactName || existing.contactName;
      existing.pageUrl = input.pageUrl ?? existing.pageUrl;
      existing.inboxId = input.inboxId ?? existing.inboxId;
      existing.at = now;
      armDismiss(existing);
      if (!fresh || force) alert(existing);
      return existing;
    }
    const toast: Toast = { ...input, id: nextId++, at: now };
    toasts.value = [...toasts.value, toast].slice(-6);
    const added = toasts.value.find((x) => x.id === toast.id) ?? toast;
    armDismiss(added);
    alert(added);
    return added;
  }

  function dismiss(id: number): void {
    const timer = dismissTimers.get(id);
    if (timer) clearTimeout(timer);
    dismissTimers.delete(id);
    toasts.value = toasts.value.filter((x) => x.id !== id);
  }

  function dismissConversation(conversationId: number): void {
    for (const x of toasts.value.filter((t) => t.conversationId === conversationId)) dismiss(x.id);
  }

  function stopOffer(conversationId: number): void {
    const timer = offerTimers.get(conversationId);
    if (timer) clearInterval(timer);
    offerTimers.delete(conversationId);
    if (offered.value[conversationId]) {
      const next = { ...offered.value };
      delete next[conversationId];
      offered.value = next;
      for (const x of toasts.value.filter((t) => t.conversationId === conversationId && t.kind === "offered")) dismiss(x.id);
    }
  }

  function offerToast(data: OfferedData): Omit<Toast, "id" | "at"> {
    return {
      kind: "offered",
      conversationId: data.conversation_id,
      contactName: data.contact_name,
      inboxId: data.inbox_id,
      pageUrl: null,
      text: data.preview,
    };
  }

  function startOffer(data: OfferedData): void {
    const id = data.conversation_id;
    offered.value = { ...offered.value, [id]: data };
    notify(offerToast(data), { force: true });
    if (offerTimers.has(id)) return;
    offerTimers.set(
      id,
      setInterval(() => {
        const conv = known.get(id);
        if ((conv && conv.assignee_id !== null) || openConversationId.value === id) {
          stopOffer(id);
          return;
        }
        if (!takesNewChats()) return;
        notify(offerToast(data), { force: true });
      }, REOFFER_MS),
    );
  }

  async function onMessage(msg: Message): Promise<void> {
    const mine = me();
    if (mine === null) return;
    const cid = msg.conversation_id;
    if (msg.sender_type === "agent" && msg.sender_id === mine) ownActs.set(cid, Date.now());
    const data = (msg.data ?? {}) as Record<string, unknown>;

    if (msg.kind === "outgoing" && msg.sender_id !== mine && offered.value[cid]) {
      stopOffer(cid); // a teammate answered it: it is taken
      return;
    }
    if (msg.kind === "incoming") {
      if (!wants("new_message")) return;
      const conv = await conversation(cid);
      if (!conv || (conv.assignee_id !== null && conv.assignee_id !== mine)) return;
      if (conv.assignee_id === null && !takesNewChats()) return;
      notify({
        kind: "new_message",
        conversationId: cid,
        contactName: conv.contact.name,
        inboxId: conv.inbox_id,
        pageUrl: pageUrlOf(data),
        text: msg.text || attachmentName(data),
      });
      return;
    }
    if (msg.kind === "note") {
      const mentions = Array.isArray(data.mentions) ? (data.mentions as unknown[]).map(Number) : [];
      if (msg.sender_id === mine || !mentions.includes(mine) || !wants("mention")) return;
      const conv = await conversation(cid);
      notify({
        kind: "mention",
        conversationId: cid,
        contactName: conv?.contact.name ?? "",
        inboxId: conv?.inbox_id ?? msg.inbox_id,
        pageUrl: null,
        text: msg.text,
      });
      return;
    }
    if (msg.kind === "activity" && data.activity === "assigned") {
      if (msg.sender_id === mine) {
        // My own assignment: take back an assignment toast a racing conversation.updated raised.
        for (const x of toasts.value.filter((t) => t.conversationId === cid && t.kind === "assignment")) dismiss(x.id);
        return;
      }
      if (Number(data.assignee_id) !== mine || !wants("assignment")) return;
      const conv = await conversation(cid);
      notify({
        kind: "assignment",
        conversationId: cid,
        contactName: conv?.contact.name ?? "",
        inboxId: conv?.inbox_id ?? msg.inbox_id,
        pageUrl: null,
        text: typeof data.comment === "string" && data.comment ? data.comment : (conv?.last_message_preview ?? ""),
      });
    }
  }

  function onConversation(conv: Conversation, created: boolean): void {
    const mine = me();
    const before = remember(conv);
    if (mine === null) return;
    if (offered.value[conv.id]) {
      const read = before !== undefined && before.unread_count > 0 && conv.unread_count === 0;
      if (conv.assignee_id !== null || read) stopOffer(conv.id);
    }
    if (created) {
      if (conv.assignee_id !== null && conv.assignee_id !== mine) return;
      if (conv.assignee_id === null && !takesNewChats()) return;
      notify({
        kind: "new_conversation",
        conversationId: conv.id,
        contactName: conv.contact.name,
        inboxId: conv.inbox_id,
        pageUrl: null,
        text: conv.last_message_preview,
      });
      return;
    }
    const newlyMine = conv.assignee_id === mine && before !== undefined && before.assignee_id !== mine;
    const announced = toasts.value.some((x) => x.conversationId === conv.id && x.kind === "assignment");
    if (newlyMine && !isOwnRecent(conv.id) && !announced) {
      notify({
        kind: "assignment",
        conversationId: conv.id,
        contactName: conv.contact.name,
        inboxId: conv.inbox_id,
        pageUrl: null,
        text: conv.last_message_preview,
      });
    }
  }

  function onOffered(data: OfferedData): void {
    const mine = me();
    if (mine === null || Number(data.offered_by) === mine) return;
    if (!takesNewChats()) return;
    const conv = known.get(data.conversation_id);
    if (conv && conv.assignee_id !== null) return;
    startOffer({ ...data, conversation_id: Number(data.conversation_id) });
  }

  /** Applies one stream event; resolves once any conversation it needed was fetched. */
  async function handle(event: StreamEvent): Promise<void> {
    const d = event.data;
    switch (event.type) {
      case "conversation.created":
        onConversation(d.conversation as Conversation, true);
        break;
      case "conversation.updated":
        onConversation(d.conversation as Conversation, false);
        break;
      case "message.created":
        await onMessage(d.message as Message);
        break;
      case "conversation.offered":
        onOffered(d as unknown as OfferedData);
        break;
    }
  }

  function attach(stream: Stream): () => void {
    const offs = STREAM_TYPES.map((type) => stream.on(type, (e) => void handle(e)));
    return () => offs.forEach((off) => off());
  }

  /** The agent opened a conversation: its toasts go, an offer of it ends. */
  function setOpen(id: number | null): void {
    openConversationId.value = id;
    if (id === null) return;
    stopOffer(id);
    dismissConversation(id);
  }

  function base(): string {
    return `${useWorkspace().base()}/conversations`;
  }

  async function quickReply(toast: Toast, text: string): Promise<void> {
    await send("POST", `${base()}/${toast.conversationId}/messages`, { text, private: false });
    ownActs.set(toast.conversationId, Date.now());
    stopOffer(toast.conversationId);
    dismiss(toast.id);
  }

  async function later(toast: Toast): Promise<void> {
    stopOffer(toast.conversationId);
    dismiss(toast.id);
    await send("POST", `${base()}/${toast.conversationId}/offer`);
  }

  /** Keeps a toast on screen while the agent works in it (typing a quick reply). */
  function hold(toast: Toast): void {
    const timer = dismissTimers.get(toast.id);
    if (timer) clearTimeout(timer);
    dismissTimers.delete(toast.id);
  }

  function clear(): void {
    for (const id of [...dismissTimers.keys()]) dismiss(id);
    for (const id of [...offerTimers.keys()]) stopOffer(id);
    toasts.value = [];
    known.clear();
    ownActs.clear();
  }

  return { toasts, openConversationId, offered, hooks, handle, attach, notify, dismiss, setOpen, quickReply, later, hold, clear, stopOffer };
});

function attachmentName(data: Record<string, unknown>): string {
  const files = data.attachments;
  if (Array.isArray(files) && files.length) {
    const first = files[0] as { file_name?: unknown };
    return typeof first.file_name === "string" ? `📎 ${first.file_name}` : "📎";
  }
  return "";
}
