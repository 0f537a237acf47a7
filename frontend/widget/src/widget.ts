// The widget's behaviour: the session, the socket with its HTTP fallback, the visitor's
// messages, and which part of the panel shows. Rendering is in ui/; this file decides.
import { Api, ApiError, type SessionBody } from "./api";
import { Backoff } from "./backoff";
import { CsatPrompt } from "./csat";
import { formatBytes, type Translate } from "./i18n";
import { Link } from "./link";
import { MessageList } from "./messages";
import { footerMode, widgetHidden, type ModeState } from "./mode";
import { Outbox } from "./outbox";
import type { KeyValue } from "./storage";
import type { Lang, PageInfo, ServerFrame, UserSettings, WidgetConfig, WidgetMessage } from "./types";
import { csatForm, offlineForm, prechatForm, type FormHandle } from "./ui/forms";
import { Notices } from "./ui/notices";
import { View } from "./ui/view";
import { TypingThrottle } from "./typing";

const POLL_MS = 5_000;
const AGENT_TYPING_MAX_MS = 10_000;
const INVITATION_AFTER_MS = 4_000;

export interface WidgetOptions {
  api: Api;
  config: WidgetConfig;
  lang: Lang;
  t: Translate;
  store: KeyValue; // survives reloads (localStorage)
  visit: KeyValue; // this visit only (sessionStorage)
  user: UserSettings | null;
  page: () => PageInfo;
}

export type MessageListener = (message: Readonly<WidgetMessage>) => void;

export class Widget {
  private readonly view: View;
  private list = new MessageList();
  private readonly link: Link;
  private readonly listeners: MessageListener[] = [];
  private readonly sessionRetry = new Backoff();
  private sessionChain: Promise<boolean> = Promise.resolve(true);
  private token: string | null;
  private conversationId: number | null = null;
  private agentsOnline: boolean;
  private blocked = false;
  private stopped = false;
  private isOpen = false;
  private everUp = false;
  private poll: ReturnType<typeof setInterval> | undefined;
  private typingTimer: ReturnType<typeof setTimeout> | undefined;
  private readSent = 0;
  private readonly notices: Notices;
  private readonly outbox: Outbox;
  private readonly typing: TypingThrottle;
  private readonly csat: CsatPrompt;
  private form: { mode: string; handle: FormHandle } | null = null;

  constructor(private readonly o: WidgetOptions) {
    this.token = o.store.get("token");
    this.agentsOnline = o.config.agents_online;
    this.view = new View(o.lang, o.t, o.config.colour, {
      toggle: () => (this.isOpen ? this.close() : this.open()),
      close: () => this.close(),
      openFromInvitation: () => this.open(),
      dismissInvitation: () => this.hideInvitation(),
      send: (text) => this.sendText(text),
      input: (text) => this.typed(text),
      file: (file) => void this.upload(file),
      retry: (clientId) => this.outbox.retry(clientId),
    });
    this.link = new Link(o.api.socketUrl(), () => this.hello(), {
      frame: (frame) => this.frame(frame),
      up: () => this.up(),
      down: () => this.down(),
      final: (code) => void this.final(code),
    });
    this.notices = new Notices(this.view, o.t);
    this.outbox = new Outbox({
      api: o.api,
      link: this.link,
      list: () => this.list,
      token: () => this.token,
      changed: () => this.render(),
      conversation: (id) => (this.conversationId = id),
      refused: (clientId, error) => this.refused(clientId, error),
    });
    this.csat = new CsatPrompt(o.api, o.store);
    this.typing = new TypingThrottle((typing) => this.link.send({ type: "typing", typing }));
    this.view.title.textContent = o.config.greeting;
    this.view.textarea.value = o.store.get("draft") ?? "";
  }

  start(): void {
    this.view.mount();
    if (this.o.store.get("open") === "1") this.open();
    this.render();
    void this.startSession({});
    if (this.o.config.invitation_text && !this.o.visit.get("invited")) {
      setTimeout(() => this.invite(), INVITATION_AFTER_MS);
    }
    document.addEventListener("visibilitychange", () => this.markRead());
  }

  // --- the JavaScript API -------------------------------------------------------------------

  open(): void {
    if (this.stopped) return;
    this.isOpen = true;
    this.o.store.set("open", "1");
    this.hideInvitation();
    this.render();
    this.view.scrollDown();
    const first = this.view.panel.querySelector<HTMLElement>("input, textarea");
    (first ?? this.view.panel).focus();
    this.markRead();
  }

  close(): void {
    this.isOpen = false;
    this.o.store.set("open", "0");
    this.render();
    if (this.view.launcher.isConnected && !this.view.launcher.hidden) this.view.launcher.focus();
  }

  toggle(): void {
    if (this.isOpen) this.close();
    else this.open();
  }

  onMessage(listener: MessageListener): void {
    this.listeners.push(listener);
  }

  /** A customer who logged in on the site: a new session as that contact, and a fresh log. */
  setUser(user: UserSettings): void {
    this.o.user = user;
    this.list = new MessageList();
    this.conversationId = null;
    this.readSent = 0;
    this.link.stop();
    void this.startSession({});
  }

  /** A single-page site moved to another page. */
  page(): void {
    const page = this.o.page();
    this.link.send({ type: "page", url: page.url, title: page.title });
  }

  // --- session and connection ---------------------------------------------------------------

  /** One session request at a time, each after the one before: a pre-chat form sent while the
   * page load's session is still in flight must carry that session's visitor token, or the
   * visitor would become two contacts (one with the details, one with the messages). */
  private startSession(extra: SessionBody): Promise<boolean> {
    const run = this.sessionChain.then(() => this.requestSession(extra));
    this.sessionChain = run.catch(() => false);
    return run;
  }

  private async requestSession(extra: SessionBody): Promise<boolean> {
    const body: SessionBody = { page: this.o.page(), language: navigator.language, ...extra };
    if (this.token) body.visitor_token = this.token;
    const user = this.o.user;
    if (user?.id && user.hash) body.identity = { user_id: String(user.id), hash: user.hash };
    if (user?.name && !body.name) body.name = user.name;
    if (user?.email && !body.email) body.email = user.email;
    try {
      const session = await this.o.api.session(body);
      this.token = session.visitor_token;
      this.o.store.set("token", session.visitor_token);
      this.conversationId = session.conversation_id ?? this.conversationId;
      this.sessionRetry.reset();
      this.link.start();
      this.outbox.flushHttp(); // written while the session was starting
      this.render();
      return true;
    } catch (error) {
      const e = error instanceof ApiError ? error : new ApiError(0, "network", String(error));
      if (e.code === "visitor_blocked") this.block();
      else if (e.status === 401 && this.token && e.field === "visitor_token") {
        this.forgetVisitor(); // a token from an old secret or another inbox: start afresh
        return this.requestSession(extra);
      } else if (e.code === "inbox_disabled" || e.status === 404) this.shutDown();
      else if (e.status === 0 || e.status >= 500 || e.status === 429) {
        setTimeout(() => void this.startSession(extra), this.sessionRetry.next());
      } else this.notices.error(e.message || this.o.t("failedGeneric"));
      return false;
    }
  }

  private forgetVisitor(): void {
    this.token = null;
    this.o.store.remove("token");
  }

  private hello() {
    return {
      type: "hello" as const,
      visitor_token: this.token ?? "",
      last_message_id: this.list.lastId(),
      page: this.o.page(),
      language: navigator.language,
    };
  }

  private up(): void {
    this.everUp = true;
    clearInterval(this.poll);
    this.poll = undefined;
    this.render();
  }

  private down(): void {
    // Whatever went out on the dead socket without an ack goes again over HTTP, same client id.
    this.outbox.flushHttp();
    if (!this.poll) this.poll = setInterval(() => void this.fetchMissed(), POLL_MS);
    this.render();
  }

  private async final(code: number): Promise<void> {
    clearInterval(this.poll);
    this.poll = undefined;
    if (code === 4403) this.block();
    else if (code === 4410) this.shutDown();
    else if (code === 4401) {
      this.forgetVisitor();
      await this.startSession({});
    }
  }

  private async fetchMissed(): Promise<void> {
    if (!this.token || this.link.isUp) return;
    try {
      const answer = await this.o.api.list(this.token, this.list.lastId());
      if (answer.conversation_id) this.conversationId = answer.conversation_id;
      for (const m of answer.messages) this.incoming(m, true);
      this.render();
    } catch (error) {
      if (error instanceof ApiError && error.code === "visitor_blocked") this.block();
    }
  }

  private frame(frame: ServerFrame): void {
    switch (frame.type) {
      case "ready":
        this.conversationId = frame.conversation_id ?? this.conversationId;
        this.agentsOnline = frame.agents_online;
        for (const m of frame.messages) this.incoming(m, false);
        if (frame.agents_read) this.list.markSeen();
        this.outbox.flushSocket();
        break;
      case "message":
        this.incoming(frame.message, true);
        break;
      case "ack":
        this.list.merge(frame.message);
        this.emit(frame.message);
        break;
      case "typing":
        this.agentTyping(frame.typing ? (frame.name ?? "") : null);
        break;
      case "read":
        this.list.markSeen();
        break;
      case "conversation":
        this.conversationId = frame.conversation_id;
        this.csat.update(frame.conversation_id, frame.status, frame.csat);
        break;
      case "agents":
        this.agentsOnline = frame.online;
        break;
      case "error":
        if (frame.code === "visitor_blocked") this.block();
        else if (frame.client_id) this.refused(frame.client_id, new ApiError(0, frame.code, frame.message, null, frame.retry_after ?? null));
        else this.notices.error(frame.message);
        break;
      case "pong":
        return;
    }
    this.render();
  }

  private incoming(message: WidgetMessage, live: boolean): void {
    const first = this.list.all().length === 0;
    if (!this.list.merge(message)) return;
    this.emit(message);
    if (message.direction !== "agent") return;
    this.agentTyping(null);
    // An agent who starts the chat with a visitor (live visitors) opens the panel for them.
    // (A `conversation` frame may come first, so the test is "no message yet", not "no conversation".)
    if (live && first && !this.isOpen) this.open();
  }

  private emit(message: WidgetMessage): void {
    for (const listener of this.listeners) {
      try {
        listener({ ...message, attachments: message.attachments.map((a) => ({ ...a })) });
      } catch (error) {
        console.error("Frontdesk: a message listener failed", error);
      }
    }
  }

  // --- sending ------------------------------------------------------------------------------

  private sendText(text: string): void {
    if (this.blocked) return;
    this.notices.error(null);
    this.o.store.remove("draft");
    this.typing.stop();
    this.outbox.write(text);
    this.view.scrollDown();
  }

  /** The server refused a message: say why; a rate-limited text goes back into the composer. */
  private refused(clientId: string, e: ApiError): void {
    const t = this.o.t;
    if (e.code === "visitor_blocked") return this.block();
    if (e.code === "rate_limited") {
      const message = this.list.remove(clientId);
      const box = this.view.textarea;
      // Several refused in a row all come back, in the order written.
      if (message?.text && !box.value.includes(message.text)) {
        box.value = box.value.trim() ? `${message.text}\n${box.value}` : message.text;
        this.o.store.set("draft", box.value);
      }
      this.notices.rateLimited(e.retryAfter);
    } else {
      this.list.fail(clientId);
      this.notices.error(e.status === 0 ? t("reconnecting") : e.message || t("failedGeneric"));
    }
    this.render();
  }

  private async upload(file: File): Promise<void> {
    const t = this.o.t;
    if (this.blocked) return;
    const limit = formatBytes(t, this.o.config.max_upload_bytes);
    if (file.size > this.o.config.max_upload_bytes) return this.notices.error(t("fileTooLarge", { limit }));
    this.notices.error(null);
    this.view.scrollDown();
    const stored = await this.outbox.upload(file, (e) => {
      if (e.code === "visitor_blocked") this.block();
      else if (e.code === "file_too_large") this.notices.error(t("fileTooLarge", { limit }));
      else if (e.code === "rate_limited") this.notices.rateLimited(e.retryAfter);
      else this.notices.error(t("fileRefused", { reason: e.message || t("failedGeneric") }));
    });
    if (stored) this.emit(stored);
  }

  // --- typing and read state ----------------------------------------------------------------

  private typed(text: string): void {
    this.o.store.set("draft", text);
    this.typing.input(text);
  }

  private agentTyping(name: string | null): void {
    clearTimeout(this.typingTimer);
    const el = this.view.typing;
    el.hidden = name === null;
    el.textContent = name === null ? "" : name ? this.o.t("typing", { name }) : this.o.t("typingSomeone");
    // An agent whose "stopped typing" never came (a closed tab) does not type forever.
    if (name !== null) this.typingTimer = setTimeout(() => this.agentTyping(null), AGENT_TYPING_MAX_MS);
  }

  /** Tells agents what the visitor has seen: agent messages, while the panel is open and visible. */
  private markRead(): void {
    if (!this.isOpen || document.visibilityState === "hidden") return;
    const last = this.list.lastAgentId();
    if (last > Number(this.o.store.get("seen") ?? 0)) this.o.store.set("seen", String(last));
    if (last > this.readSent && this.link.send({ type: "read", up_to: last })) this.readSent = last;
    this.renderBadge();
  }

  // --- forms -------------------------------------------------------------------------------

  private async rate(rating: number, comment: string): Promise<void> {
    if (!this.token) return;
    this.form?.handle.busy(true);
    try {
      await this.csat.submit(this.token, rating, comment);
    } catch (error) {
      this.form?.handle.busy(false);
      this.notices.error(error instanceof ApiError && error.message ? error.message : this.o.t("failedGeneric"));
      return;
    }
    this.notices.error(null);
    this.notices.thanks(this.o.t("csatThanks"));
    this.render();
  }

  private async prechat(values: Record<string, string>): Promise<void> {
    this.form?.handle.busy(true);
    if (await this.startSession(values)) {
      this.o.store.set("prechat", "1");
      this.render();
      this.view.textarea.focus();
    } else this.form?.handle.busy(false);
  }

  private async offline(values: Record<string, string>): Promise<void> {
    this.form?.handle.busy(true);
    try {
      const answer = await this.o.api.offline({
        ...(this.token ? { visitor_token: this.token } : {}),
        name: values.name ?? "",
        email: values.email ?? "",
        text: values.text ?? "",
      });
      this.token = answer.visitor_token;
      this.o.store.set("token", answer.visitor_token);
      this.conversationId = answer.conversation_id;
      this.notices.error(null);
      this.notices.thanks(this.o.t("offlineThanks"));
      if (!this.link.isUp) this.link.restart();
      this.render();
    } catch (error) {
      this.form?.handle.busy(false);
      if (error instanceof ApiError && error.code === "visitor_blocked") this.block();
      else if (error instanceof ApiError && error.code === "rate_limited") this.notices.rateLimited(error.retryAfter);
      else this.notices.error(error instanceof ApiError && error.message ? error.message : this.o.t("failedGeneric"));
    }
  }

  private block(): void {
    this.blocked = true;
    this.link.stop();
    clearInterval(this.poll);
    this.poll = undefined;
    this.agentTyping(null);
    this.render();
  }

  /** The inbox was disabled or removed: the widget leaves the page. */
  private shutDown(): void {
    this.stopped = true;
    this.link.stop();
    clearInterval(this.poll);
    this.view.host.remove();
  }

  private hasConversation(): boolean {
    return this.conversationId !== null || this.list.all().length > 0;
  }

  private invite(): void {
    if (this.isOpen || this.blocked || this.hasConversation() || this.view.launcher.hidden) return;
    this.o.visit.set("invited", "1");
    const text = this.view.invitation.firstElementChild;
    if (text) text.textContent = this.o.config.invitation_text;
    this.view.invitation.hidden = false;
  }

  private hideInvitation(): void {
    this.view.invitation.hidden = true;
  }

  // --- rendering ----------------------------------------------------------------------------

  private state(): ModeState {
    return {
      config: this.o.config,
      agentsOnline: this.agentsOnline,
      hasConversation: this.hasConversation(),
      blocked: this.blocked,
      prechatDone: this.o.store.get("prechat") === "1",
      csatPending: this.csat.pending !== null,
    };
  }

  private render(): void {
    const v = this.view;
    const t = this.o.t;
    const hidden = widgetHidden(this.state());
    v.launcher.hidden = hidden;
    v.panel.hidden = hidden || !this.isOpen;
    if (hidden) v.invitation.hidden = true;
    v.launcher.setAttribute("aria-expanded", String(this.isOpen));
    v.launcher.setAttribute("aria-label", this.isOpen ? t("closeChat") : t("openChat"));
    v.state.textContent = this.everUp && !this.link.isUp && !this.blocked ? t("reconnecting") : t(this.agentsOnline ? "online" : "away");
    v.messages(this.list.all());
    this.renderFooter();
    this.renderBadge();
    if (this.isOpen) this.markRead();
  }

  private renderFooter(): void {
    const mode = footerMode(this.state());
    const t = this.o.t;
    if (mode === "composer") {
      this.form = null;
      this.view.footer(this.view.composer);
      return;
    }
    if (mode === "blocked") {
      this.form = null;
      this.view.footer(this.view.blockedLine(t("blocked")));
      return;
    }
    if (this.form?.mode === mode) return;
    const handle =
      mode === "offline"
        ? offlineForm(t, (values) => void this.offline(values))
        : mode === "prechat"
          ? prechatForm(t, this.o.config.prechat_fields, (values) => void this.prechat(values))
          : csatForm(t, (rating, comment) => void this.rate(rating, comment));
    this.form = { mode, handle };
    this.view.footer(handle.el);
  }

  private renderBadge(): void {
    const seen = Number(this.o.store.get("seen") ?? 0);
    const unread = this.isOpen ? 0 : this.list.all().filter((m) => m.direction === "agent" && (m.id ?? 0) > seen).length;
    const badge = this.view.badge;
    badge.hidden = unread === 0;
    badge.textContent = unread > 9 ? "9+" : String(unread);
    if (unread && !this.isOpen) this.view.launcher.setAttribute("aria-label", `${this.o.t("openChat")}, ${this.o.t("unread", { count: unread })}`);
  }
}
