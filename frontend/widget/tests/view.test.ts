import { afterEach, describe, expect, it } from "vitest";
import { translator } from "../src/i18n";
import { MessageList } from "../src/messages";
import { View, type ViewEvents } from "../src/ui/view";
import type { Lang } from "../src/types";

const calls: string[] = [];
const events: ViewEvents = {
  toggle: () => calls.push("toggle"),
  close: () => calls.push("close"),
  openFromInvitation: () => calls.push("invitation"),
  dismissInvitation: () => calls.push("dismiss"),
  send: (text) => calls.push(`send:${text}`),
  input: (text) => calls.push(`input:${text}`),
  file: (file) => calls.push(`file:${file.name}`),
  retry: (id) => calls.push(`retry:${id}`),
};

function mount(lang: Lang = "en"): View {
  const view = new View(lang, translator(lang), "#ffcc00", events);
  view.mount();
  return view;
}

const hook = (view: View, name: string) => view.host.shadowRoot?.querySelector(`[data-fd="${name}"]`);

afterEach(() => {
  document.body.replaceChildren();
  calls.length = 0;
});

describe("View", () => {
  it("lives in an open shadow root on one host element that resets the page's styles", () => {
    const view = mount();
    expect(document.getElementById("frontdesk-widget")).toBe(view.host);
    expect(view.host.shadowRoot?.mode).toBe("open");
    const style = view.host.getAttribute("style") ?? "";
    expect(style).toContain("all:initial !important");
    expect(style).toContain("z-index:2147483647 !important");
    expect(document.body.querySelectorAll("[data-fd]")).toHaveLength(0); // nothing in the page's DOM
    expect(hook(view, "launcher")?.getAttribute("aria-label")).toBeNull(); // labelled by the widget on render
  });

  it("is right to left in Persian and left to right otherwise, with translated labels", () => {
    const fa = mount("fa");
    fa.footer(fa.composer);
    expect(fa.root.getAttribute("dir")).toBe("rtl");
    expect(fa.root.style.direction).toBe("rtl");
    expect(hook(fa, "send")?.getAttribute("aria-label")).toBe("ارسال");
    const tr = mount("tr");
    tr.footer(tr.composer);
    expect(tr.root.getAttribute("dir")).toBe("ltr");
    expect(hook(tr, "emoji")?.getAttribute("aria-label")).toBe("Emoji ekle");
  });

  it("picks readable text for the inbox colour", () => {
    const view = mount();
    expect(view.root.style.getPropertyValue("--fd-c").trim()).toBe("#ffcc00");
    expect(view.root.style.getPropertyValue("--fd-t").trim()).toBe("#111111");
    expect(mount().root.style.getPropertyValue("--fd-t").trim()).toBe("#111111");
    const dark = new View("en", translator("en"), "#1f6feb", events);
    expect(dark.root.style.getPropertyValue("--fd-t").trim()).toBe("#ffffff");
    const junk = new View("en", translator("en"), "red;background:url(x)", events);
    expect(junk.root.style.getPropertyValue("--fd-c").trim()).toBe("#1f6feb");
  });

  it("renders messages with their hooks, direction and status, updating them in place", () => {
    const view = mount();
    view.footer(view.composer);
    const list = new MessageList();
    list.addPending("c-1", "Hello <b>there</b>");
    list.merge({
      id: 7,
      client_id: null,
      direction: "agent",
      text: "Hi!",
      content_type: "text",
      attachments: [{ file_name: "a.png", content_type: "image/png", size: 3, url: "https://desk.example.com/files/x" }],
      sender_name: "Ayşe",
      created_at: "2026-11-24T17:00:00+00:00",
    });
    view.messages(list.all());
    const shown = () => Array.from(view.log.querySelectorAll<HTMLElement>('[data-fd="message"]'));
    expect(shown().map((m) => [m.dataset.direction, m.dataset.status ?? null])).toEqual([
      ["agent", null],
      ["visitor", "sending"],
    ]);
    expect(shown()[0].querySelector("img")?.getAttribute("src")).toBe("https://desk.example.com/files/x");
    expect(shown()[0].textContent).toContain("Ayşe");
    expect(shown()[1].querySelector("b")).toBeNull(); // text, never HTML
    const visitorEl = shown()[1];
    list.merge({ ...list.all()[0], id: 9, client_id: "c-1", direction: "visitor", text: "Hello <b>there</b>", attachments: [], sender_name: null });
    list.markSeen();
    view.messages(list.all());
    expect(shown()).toHaveLength(2);
    expect(shown()[1].dataset.status).toBe("seen");
    expect(shown()[1]).not.toBe(visitorEl); // re-rendered because it changed
  });

  it("sends on Enter, keeps Shift+Enter for a new line, and never sends blanks", () => {
    const view = mount();
    view.footer(view.composer);
    const box = view.textarea;
    box.value = "   ";
    box.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" }));
    box.value = "line one";
    box.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", shiftKey: true }));
    expect(calls).toEqual([]);
    box.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" }));
    expect(calls).toEqual(["send:line one"]);
    expect(box.value).toBe("");
  });

  it("shows one footer at a time: a form takes the composer out of the DOM", () => {
    const view = mount();
    view.footer(view.composer);
    expect(hook(view, "composer")).toBeTruthy();
    view.footer(view.blockedLine("You can no longer start chats here."));
    expect(hook(view, "composer")).toBeNull();
    expect(hook(view, "blocked")?.textContent).toBe("You can no longer start chats here.");
  });

  it("closes on Escape and inserts emoji where the cursor is", () => {
    const view = mount();
    view.footer(view.composer);
    view.panel.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(calls).toContain("close");
    view.textarea.value = "ab";
    view.textarea.selectionStart = view.textarea.selectionEnd = 1;
    (view.emojis.querySelector("button") as HTMLButtonElement).click();
    expect(view.textarea.value).toBe("a😀b");
  });
});
