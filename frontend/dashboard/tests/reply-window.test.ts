// The reply window in the composer (decision 0039): the countdown, amber in the last hour, and
// once closed no free text but exactly the ways on the server allows.
import { mount } from "@vue/test-utils";
import { createPinia, setActivePinia } from "pinia";
import { beforeEach, describe, expect, it } from "vitest";
import type { ReplyWindow } from "@/api/types";
import MessageComposer from "@/components/conversation/MessageComposer.vue";
import { countdownParts, windowAt } from "@/components/conversation/replyWindow";
import { i18n } from "@/i18n";
import { conversation } from "./fixtures";

const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);
const H = 3_600_000;

function rw(over: Partial<ReplyWindow>): ReplyWindow {
  return { state: "open", closes_at: null, messages_left: null, allowed: ["free_text"], other_inbox_id: null, ...over };
}

describe("windowAt", () => {
  it("no window: free text, no countdown", () => {
    expect(windowAt(null, NOW)).toEqual({ state: "none", leftMs: null, freeText: true, waysOn: [] });
    expect(windowAt(rw({ state: "none" }), NOW).freeText).toBe(true);
  });

  it("open, closing in the last hour (one hour left included), closed at closes_at on the agent's clock", () => {
    const closes = (ms: number) => rw({ closes_at: new Date(NOW + ms).toISOString() });
    expect(windowAt(closes(3 * H), NOW)).toMatchObject({ state: "open", leftMs: 3 * H, freeText: true });
    expect(windowAt(closes(H + 1000), NOW).state).toBe("open");
    expect(windowAt(closes(H), NOW).state).toBe("closing");
    expect(windowAt(closes(1000), NOW)).toMatchObject({ state: "closing", freeText: true });
    expect(windowAt(closes(0), NOW)).toMatchObject({ state: "closed", freeText: false, leftMs: null });
  });

  it("closed: the ways on are the server's allowed list without free text", () => {
    const w = rw({ state: "closed", closes_at: new Date(NOW - H).toISOString(), allowed: ["template", "other_inbox"] });
    expect(windowAt(w, NOW)).toEqual({ state: "closed", leftMs: null, freeText: false, waysOn: ["template", "other_inbox"] });
  });
});

describe("countdownParts", () => {
  it("rounds up to the minute and never shows zero while open", () => {
    expect(countdownParts(3 * H + 12 * 60_000)).toEqual({ hours: 3, minutes: 12 });
    expect(countdownParts(3 * H + 11 * 60_000 + 1)).toEqual({ hours: 3, minutes: 12 });
    expect(countdownParts(59 * 60_000)).toEqual({ hours: 0, minutes: 59 });
    expect(countdownParts(500)).toEqual({ hours: 0, minutes: 1 });
    expect(countdownParts(24 * H)).toEqual({ hours: 24, minutes: 0 });
  });
});

describe("the composer's window bar", () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    i18n.global.locale.value = "en";
  });

  function mountWith(w: ReplyWindow | null) {
    return mount(MessageComposer, {
      props: { conversationId: 7, conversation: conversation(7, { reply_window: w }) },
      global: { plugins: [i18n] },
    });
  }

  it("shows the countdown and the messages left, amber in the last hour", () => {
    const open = mountWith(rw({ closes_at: new Date(Date.now() + 3 * H + 12 * 60_000 - 1000).toISOString(), messages_left: 4 }));
    expect(open.get('[data-testid="reply-window"]').attributes("data-state")).toBe("open");
    expect(open.get('[data-testid="reply-window-countdown"]').text()).toBe("Window closes in 3 h 12 min");
    expect(open.get('[data-testid="reply-window-left"]').text()).toContain("4 messages left");
    const closing = mountWith(rw({ closes_at: new Date(Date.now() + 30 * 60_000).toISOString() }));
    expect(closing.get('[data-testid="reply-window"]').classes()).toContain("closing");
    expect((closing.get('[data-testid="composer-input"]').element as HTMLTextAreaElement).disabled).toBe(false);
  });

  it("closed: free text is disabled and only the allowed ways are offered", () => {
    const w = mountWith(rw({ state: "closed", closes_at: new Date(Date.now() - H).toISOString(), allowed: ["other_inbox"], other_inbox_id: 3 }));
    expect((w.get('[data-testid="composer-input"]').element as HTMLTextAreaElement).disabled).toBe(true);
    expect(w.get('[data-testid="composer-send"]').attributes("disabled")).toBeDefined();
    expect(w.find('[data-testid="way-other-inbox"]').exists()).toBe(true);
    expect(w.find('[data-testid="way-template"]').exists()).toBe(false);
    expect(w.find('[data-testid="way-tagged"]').exists()).toBe(false);
    const none = mountWith(rw({ state: "closed", allowed: [] }));
    expect(none.find('[data-testid="reply-window-ways"]').exists()).toBe(false);
    expect(none.text()).toContain("Wait until the customer writes again.");
  });

  it("no window: no bar", () => {
    expect(mountWith(null).find('[data-testid="reply-window"]').exists()).toBe(false);
    expect(mountWith(rw({ state: "none" })).find('[data-testid="reply-window"]').exists()).toBe(false);
  });

  it("speaks Persian with Persian digits", () => {
    i18n.global.locale.value = "fa";
    const w = mountWith(rw({ closes_at: new Date(Date.now() + 2 * H + 5 * 60_000 - 1000).toISOString() }));
    expect(w.get('[data-testid="reply-window-countdown"]').text()).toBe("پنجره تا ۲ ساعت و ۵ دقیقه دیگر بسته می‌شود");
  });
});
