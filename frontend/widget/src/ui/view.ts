// The widget's DOM inside its shadow root: launcher, invitation, and the panel (header, message
// log, typing line, notices, and a footer slot for the composer or one of the forms).
import { LOCALES, isRtl, type Translate } from "../i18n";
import type { ChatMessage } from "../messages";
import type { Lang } from "../types";
import { EMOJI } from "./emoji";
import { ICONS, h, icon, safeColour, textOn } from "./dom";
import { CSS, HOST_STYLE } from "./styles";

export interface ViewEvents {
  toggle(): void;
  close(): void;
  openFromInvitation(): void;
  dismissInvitation(): void;
  send(text: string): void;
  input(text: string): void;
  file(file: File): void;
  retry(clientId: string): void;
}

export class View {
  readonly host: HTMLElement;
  readonly root: HTMLElement;
  readonly launcher: HTMLButtonElement;
  readonly badge: HTMLElement;
  readonly invitation: HTMLElement;
  readonly panel: HTMLElement;
  readonly title: HTMLElement;
  readonly state: HTMLElement;
  readonly log: HTMLElement;
  readonly typing: HTMLElement;
  readonly notice: HTMLElement;
  readonly thanks: HTMLElement;
  readonly slot: HTMLElement;
  readonly composer: HTMLElement;
  readonly textarea: HTMLTextAreaElement;
  readonly emojis: HTMLElement;
  readonly drop: HTMLElement;
  private readonly blocked = h("div", { class: "blocked", "data-fd": "blocked", role: "status" });
  private readonly rendered = new Map<string, { el: HTMLElement; sig: string }>();
  private readonly time: Intl.DateTimeFormat;

  constructor(
    readonly lang: Lang,
    private readonly t: Translate,
    colour: string,
    private readonly on: ViewEvents,
  ) {
    this.time = new Intl.DateTimeFormat(LOCALES[lang], { hour: "2-digit", minute: "2-digit" });
    this.host = document.createElement("frontdesk-widget");
    this.host.id = "frontdesk-widget";
    this.host.setAttribute("style", HOST_STYLE);
    // Open, so that end-to-end tests can look inside (docs/decisions/0011-widget-bundle.md).
    const shadow = this.host.attachShadow({ mode: "open" });
    const style = document.createElement("style");
    style.textContent = CSS;
    const c = safeColour(colour);
    this.root = h("div", { class: "fd", dir: isRtl(lang) ? "rtl" : "ltr", lang, style: `--fd-c:${c};--fd-t:${textOn(c)}` });
    this.root.style.direction = isRtl(lang) ? "rtl" : "ltr";
    shadow.append(style, this.root);

    this.badge = h("span", { class: "badge", "aria-hidden": "true" });
    this.launcher = h("button", { type: "button", class: "launcher", "data-fd": "launcher", "aria-expanded": "false" });
    this.launcher.append(icon(ICONS.chat), this.badge);
    this.launcher.addEventListener("click", () => on.toggle());

    const dismiss = this.iconButton(ICONS.close, t("dismiss"), "x");
    dismiss.addEventListener("click", (event) => {
      event.stopPropagation();
      on.dismissInvitation();
    });
    this.invitation = h("div", { class: "invite", "data-fd": "invitation", role: "status" }, h("span", {}), dismiss);
    this.invitation.addEventListener("click", () => on.openFromInvitation());

    this.title = h("span", { class: "title" });
    this.state = h("span", { class: "state" });
    const close = this.iconButton(ICONS.close, t("closeChat"), "iconbtn");
    close.addEventListener("click", () => on.close());
    this.log = h("div", { class: "log", role: "log", "aria-live": "polite", tabindex: "0" });
    this.typing = h("div", { class: "typing", "data-fd": "typing", "aria-live": "polite" });
    this.notice = h("div", { class: "notice", "data-fd": "error", role: "alert" });
    this.thanks = h("div", { class: "thanks", role: "status" });
    this.slot = h("div", { class: "foot" });
    this.drop = h("div", { class: "drop" }, t("dropHere"));
    this.panel = h(
      "section",
      { class: "panel", "data-fd": "panel", role: "dialog", "aria-label": t("chat"), tabindex: "-1" },
      h("header", { class: "head" }, h("div", { class: "titles" }, this.title, this.state), close),
      this.log,
      this.typing,
      this.notice,
      this.thanks,
      this.slot,
      this.drop,
    );
    this.panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") on.close();
    });

    this.textarea = h("textarea", { "data-fd": "composer", rows: 1, placeholder: t("placeholder"), "aria-label": t("placeholder") });
    this.emojis = this.emojiGrid();
    this.composer = this.buildComposer();
    for (const el of [this.invitation, this.panel, this.typing, this.notice, this.thanks, this.drop, this.emojis, this.badge]) {
      el.hidden = true;
    }
    this.root.append(this.invitation, this.panel, this.launcher);
  }

  mount(): void {
    (document.body ?? document.documentElement).append(this.host);
  }

  /** Shows `content` in the footer slot; anything else there leaves the DOM. */
  footer(content: HTMLElement | null): void {
    const current = this.slot.firstElementChild;
    if (current === content) return;
    this.slot.replaceChildren(...(content ? [content] : []));
    this.slot.hidden = !content;
  }

  /** The line a blocked visitor sees instead of the composer. */
  blockedLine(text: string): HTMLElement {
    this.blocked.textContent = text;
    return this.blocked;
  }

  showNotice(text: string | null): void {
    this.notice.textContent = text ?? "";
    this.notice.hidden = !text;
  }

  showThanks(text: string | null): void {
    this.thanks.textContent = text ?? "";
    this.thanks.hidden = !text;
  }

  /** Brings the log in line with the list: one element per message, updated in place. */
  messages(list: readonly ChatMessage[]): void {
    const atBottom = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 40;
    const keep = new Set<string>();
    list.forEach((m, index) => {
      keep.add(m.key);
      const sig = JSON.stringify([m.id, m.status, m.text, m.attachments.length, m.pending_file, m.sender_name]);
      let entry = this.rendered.get(m.key);
      if (!entry || entry.sig !== sig) {
        const el = this.message(m);
        if (entry) entry.el.replaceWith(el);
        entry = { el, sig };
        this.rendered.set(m.key, entry);
      }
      const at = this.log.children[index];
      if (at !== entry.el) this.log.insertBefore(entry.el, at ?? null);
    });
    for (const [key, entry] of this.rendered) {
      if (!keep.has(key)) {
        entry.el.remove();
        this.rendered.delete(key);
      }
    }
    if (atBottom) this.scrollDown();
  }

  scrollDown(): void {
    this.log.scrollTop = this.log.scrollHeight;
  }

  private message(m: ChatMessage): HTMLElement {
    const t = this.t;
    const bubble = h("div", { class: "bubble" });
    if (m.text) bubble.append(m.text);
    if (m.pending_file) bubble.append(h("span", {}, m.pending_file));
    for (const a of m.attachments) {
      const url = /^https?:\/\//i.test(a.url) ? a.url : "#";
      bubble.append(
        a.content_type.startsWith("image/")
          ? h("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, h("img", { src: url, alt: a.file_name }))
          : h("a", { href: url, target: "_blank", rel: "noopener noreferrer", download: a.file_name }, a.file_name),
      );
    }
    const visitor = m.direction === "visitor";
    const when = this.time.format(new Date(m.created_at));
    const meta = visitor ? `${when} · ${t(m.status)}` : when;
    const el = h(
      "div",
      {
        class: `msg ${m.direction}${m.status === "failed" ? " failed" : ""}`,
        "data-fd": "message",
        "data-direction": m.direction,
        "data-status": visitor ? m.status : null,
      },
      visitor ? null : h("span", { class: "who" }, m.sender_name || t("agent")),
      bubble,
      h("span", { class: "meta" }, meta),
    );
    if (m.status === "failed" && m.client_id) {
      const id = m.client_id;
      bubble.setAttribute("role", "button");
      bubble.setAttribute("tabindex", "0");
      bubble.addEventListener("click", () => this.on.retry(id));
    }
    return el;
  }

  private iconButton(path: string, label: string, cls: string): HTMLButtonElement {
    const button = h("button", { type: "button", class: cls, "aria-label": label, title: label });
    button.append(icon(path));
    return button;
  }

  private emojiGrid(): HTMLElement {
    const grid = h("div", { class: "emojis", role: "group", "aria-label": this.t("emoji") });
    for (const e of EMOJI) {
      const b = h("button", { type: "button", "aria-label": e }, e);
      b.addEventListener("click", () => this.insert(e));
      grid.append(b);
    }
    return grid;
  }

  private insert(text: string): void {
    const ta = this.textarea;
    const start = ta.selectionStart ?? ta.value.length;
    const end = ta.selectionEnd ?? ta.value.length;
    ta.value = ta.value.slice(0, start) + text + ta.value.slice(end);
    ta.selectionStart = ta.selectionEnd = start + text.length;
    ta.focus();
    this.on.input(ta.value);
  }

  private buildComposer(): HTMLElement {
    const t = this.t;
    const emoji = this.iconButton(ICONS.smile, t("emoji"), "iconbtn");
    emoji.setAttribute("data-fd", "emoji");
    emoji.addEventListener("click", () => (this.emojis.hidden = !this.emojis.hidden));
    const file = h("input", { type: "file", "data-fd": "file-input", class: "sr", tabindex: "-1", "aria-hidden": "true" });
    file.addEventListener("change", () => {
      const chosen = file.files?.[0];
      if (chosen) this.on.file(chosen);
      file.value = "";
    });
    const attach = this.iconButton(ICONS.clip, t("attach"), "iconbtn");
    attach.addEventListener("click", () => file.click());
    const send = this.iconButton(ICONS.send, t("send"), "iconbtn sendbtn");
    send.setAttribute("data-fd", "send");
    const submit = (): void => {
      const text = this.textarea.value;
      if (!text.trim()) return;
      this.textarea.value = "";
      this.emojis.hidden = true;
      this.on.send(text);
      this.textarea.focus();
    };
    send.addEventListener("click", submit);
    this.textarea.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        submit();
      }
    });
    this.textarea.addEventListener("input", () => this.on.input(this.textarea.value));
    this.panel.addEventListener("dragover", (event) => {
      if (!this.composer.isConnected || !event.dataTransfer?.types.includes("Files")) return;
      event.preventDefault();
      this.drop.hidden = false;
    });
    this.panel.addEventListener("dragleave", (event) => {
      if (event.target === this.drop) this.drop.hidden = true;
    });
    this.panel.addEventListener("drop", (event) => {
      this.drop.hidden = true;
      const dropped = event.dataTransfer?.files[0];
      if (!dropped || !this.composer.isConnected) return;
      event.preventDefault();
      this.on.file(dropped);
    });
    return h("div", {}, this.emojis, h("div", { class: "composer" }, emoji, attach, file, this.textarea, send));
  }
}
