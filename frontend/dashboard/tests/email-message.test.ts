// Email messages in the thread: header (subject, From/To/Cc), plain text by default, the
// formatted HTML only in a sandboxed srcdoc frame with a strict CSP, remote images held back
// until asked for (for that message only), quoted text on demand, badges for automatic mail.
import { mount } from "@vue/test-utils";
import { createPinia, setActivePinia } from "pinia";
import { beforeEach, describe, expect, it } from "vitest";
import type { Inbox, Message } from "@/api/types";
import ConversationRow from "@/components/list/ConversationRow.vue";
import MessageBubble from "@/components/conversation/MessageBubble.vue";
import { emailCsp, emailOf, emailSrcdoc, hasRemoteImages } from "@/components/conversation/emailMessage";
import { i18n } from "@/i18n";
import { useWorkspace } from "@/stores/workspace";
import { conversation } from "./fixtures";

const HTML =
  '<p dir="auto">Merhaba, <b>order 42</b></p>' +
  '<img data-src="https://tracker.example/pixel.gif" alt="logo">' +
  '<img src="/files/2026/11/abc" alt="inline">';

function mail(email: Record<string, unknown>, extra: Partial<Message> = {}): Message {
  return {
    id: 1,
    conversation_id: 7,
    inbox_id: 1,
    kind: "incoming",
    sender_type: "contact",
    sender_id: 5,
    text: "Hello, where is my order?",
    content_type: "email",
    source_id: "m1@example.com",
    delivery_status: null,
    failure_reason: null, failure_detail: null, delivery_attempts: 0, next_attempt_at: null,
    annotations: [],
    data: {
      email: {
        subject: "Order 42",
        from: { name: "Ayşe Yılmaz", address: "ayse@example.com" },
        reply_to: [],
        to: [{ name: "", address: "support@acme.mail.example.com" }],
        cc: [{ name: "علی رضایی", address: "ali@example.ir" }],
        message_id: "m1@example.com",
        html: HTML,
        quoted: "On Monday you wrote:\n> Thanks",
        kind: "normal",
        problem: null,
        ...email,
      },
    },
    created_at: "2026-11-24T10:00:00",
    ...extra,
  };
}

function mountMail(message: Message) {
  return mount(MessageBubble, { props: { message, author: "Ayşe" }, global: { plugins: [i18n] } });
}

beforeEach(() => {
  i18n.global.locale.value = "en";
});

describe("an email message", () => {
  it("shows subject, From, To and Cc, names isolated for bidi, and the plain text", () => {
    const w = mountMail(mail({}));
    expect(w.get('[data-testid="email-subject"]').text()).toBe("Order 42");
    const from = w.get('[data-testid="email-from"]');
    expect(from.text()).toContain("From");
    expect(from.get("bdi").text()).toBe("Ayşe Yılmaz");
    expect(from.text()).toContain("Ayşe Yılmaz <ayse@example.com>");
    expect(w.get('[data-testid="email-to"]').text()).toContain("support@acme.mail.example.com");
    const cc = w.get('[data-testid="email-cc"]');
    expect(cc.get("bdi").text()).toBe("علی رضایی");
    expect(cc.get('[dir="ltr"]').text()).toBe("<ali@example.ir>");
    expect(w.get('[data-testid="email-text"]').text()).toBe("Hello, where is my order?");
    expect(w.find("iframe").exists()).toBe(false);
    expect(w.find('[data-testid="email-kind"]').exists()).toBe(false);
  });

  it("leaves out an empty Cc row and says when there is no subject", () => {
    const w = mountMail(mail({ subject: "", cc: [] }));
    expect(w.get('[data-testid="email-subject"]').text()).toBe("(no subject)");
    expect(w.find('[data-testid="email-cc"]').exists()).toBe(false);
  });

  it("shows the formatted mail only in a sandboxed srcdoc frame, without scripts", async () => {
    const w = mountMail(mail({ html: HTML + '<script>alert(1)</script><img src="x" onerror="alert(2)">' }));
    await w.get('[data-testid="email-toggle-formatted"]').trigger("click");
    const frame = w.get('[data-testid="email-frame"]');
    expect(frame.attributes("sandbox")).toBe("");
    expect(frame.attributes("referrerpolicy")).toBe("no-referrer");
    expect(frame.attributes("src")).toBeUndefined();
    const srcdoc = frame.attributes("srcdoc") ?? "";
    expect(srcdoc).toContain("<b>order 42</b>");
    expect(srcdoc.toLowerCase()).not.toContain("<script");
    expect(srcdoc).not.toContain("onerror");
    expect(srcdoc).toContain(`img-src data: ${location.origin}/files/;`);
    expect(srcdoc).toContain("default-src 'none'");
    // The height twin has the same document and no scripts either.
    const probe = w.get('[data-testid="email-frame-probe"]');
    expect(probe.attributes("sandbox")).toBe("allow-same-origin");
    expect(probe.attributes("srcdoc")).toBe(srcdoc);
    expect(w.find('[data-testid="email-text"]').exists()).toBe(false);
    // And back to the text.
    await w.get('[data-testid="email-toggle-formatted"]').trigger("click");
    expect(w.find("iframe").exists()).toBe(false);
    expect(w.get('[data-testid="email-text"]').text()).toContain("where is my order");
  });

  it("keeps remote images in data-src until Load remote images, for that message only", async () => {
    const w = mount(
      { components: { MessageBubble }, props: ["a", "b"], template: '<div><MessageBubble :message="a" author="x" /><MessageBubble :message="b" author="y" /></div>' },
      { props: { a: mail({}), b: mail({}, { id: 2 }) }, global: { plugins: [i18n] } },
    );
    expect(w.find('[data-testid="email-load-images"]').exists()).toBe(false); // only in the formatted view
    for (const b of w.findAll('[data-testid="email-toggle-formatted"]')) await b.trigger("click");
    const frames = () => w.findAll('[data-testid="email-frame"]').map((f) => f.attributes("srcdoc") ?? "");
    for (const doc of frames()) {
      expect(doc).toContain('data-src="https://tracker.example/pixel.gif"');
      expect(doc).not.toMatch(/(?<!data-)src="https:\/\/tracker/);
      expect(doc).toContain('src="/files/2026/11/abc"');
      expect(doc).not.toContain("https:;");
    }
    await w.findAll('[data-testid="email-load-images"]')[0]!.trigger("click");
    const [first, second] = frames();
    expect(first).toMatch(/(?<!data-)src="https:\/\/tracker\.example\/pixel\.gif"/);
    expect(first).not.toContain("data-src=");
    expect(first).toContain(`img-src data: ${location.origin}/files/ https:;`);
    expect(second).toContain('data-src="https://tracker.example/pixel.gif"');
    expect(second).not.toContain(" https:;");
    expect(w.findAll('[data-testid="email-load-images"]')).toHaveLength(1);
  });

  it("offers no image button when the mail has no remote images, and no toggle without HTML", async () => {
    const w = mountMail(mail({ html: "<p>plain</p>" }));
    await w.get('[data-testid="email-toggle-formatted"]').trigger("click");
    expect(w.find('[data-testid="email-frame"]').exists()).toBe(true);
    expect(w.find('[data-testid="email-load-images"]').exists()).toBe(false);
    const none = mountMail(mail({ html: null }));
    expect(none.find('[data-testid="email-toggle-formatted"]').exists()).toBe(false);
  });

  it("opens formatted when the mail has no text part", () => {
    const w = mountMail(mail({}, { text: "" }));
    expect(w.find('[data-testid="email-frame"]').exists()).toBe(true);
  });

  it("folds the quoted text away until asked", async () => {
    const w = mountMail(mail({}));
    expect(w.find('[data-testid="email-quoted"]').exists()).toBe(false);
    const toggle = w.get('[data-testid="email-toggle-quoted"]');
    expect(toggle.text()).toBe("Show quoted text");
    await toggle.trigger("click");
    expect(w.get('[data-testid="email-quoted"]').text()).toContain("On Monday you wrote:");
    expect(w.get('[data-testid="email-toggle-quoted"]').text()).toBe("Hide quoted text");
    await w.get('[data-testid="email-toggle-quoted"]').trigger("click");
    expect(w.find('[data-testid="email-quoted"]').exists()).toBe(false);
    expect(mountMail(mail({ quoted: "" })).find('[data-testid="email-toggle-quoted"]').exists()).toBe(false);
  });

  it.each([
    ["auto_reply", "Auto-reply"],
    ["bounce", "Bounce"],
    ["list", "Mailing list"],
  ])("marks %s mail", (kind, label) => {
    const badge = mountMail(mail({ kind })).get('[data-testid="email-kind"]');
    expect(badge.attributes("data-kind")).toBe(kind);
    expect(badge.text()).toBe(label);
  });

  it("marks a partly read mail, in every language, and only that one", () => {
    expect(mountMail(mail({})).find('[data-testid="email-partly-read"]').exists()).toBe(false);
    const w = mountMail(mail({ partly_read: true, problem: "the MIME structure is broken" }));
    const mark = w.get('[data-testid="email-partly-read"]');
    expect(mark.text()).toBe("Partly read");
    expect(mark.attributes("title")).toContain("message.eml");
    for (const [locale, label] of [["tr", "Kısmen okundu"], ["fa", "بخشی خوانده شد"]]) {
      i18n.global.locale.value = locale as "tr" | "fa";
      expect(mountMail(mail({ partly_read: true })).get('[data-testid="email-partly-read"]').text()).toBe(label);
    }
    i18n.global.locale.value = "en";
  });

  it("is translated (Persian)", () => {
    i18n.global.locale.value = "fa";
    const w = mountMail(mail({ kind: "bounce" }));
    expect(w.get('[data-testid="email-from"]').text()).toContain("از");
    expect(w.get('[data-testid="email-kind"]').text()).toBe("برگشتی");
  });

  it("keeps the contact panel's Email label (its key sits beside the mail texts)", () => {
    expect(i18n.global.t("conversation.email")).toBe("Email");
  });

  it("leaves other messages alone", () => {
    const w = mountMail(mail({}, { content_type: "text" }));
    expect(w.find('[data-testid="email"]').exists()).toBe(false);
    expect(w.text()).toContain("Hello, where is my order?");
  });
});

describe("emailOf and the frame document", () => {
  it("reads odd data as empty instead of failing", () => {
    const e = emailOf({ content_type: "email", data: { email: { subject: 3, from: "x", to: [null, { address: "a@b.c" }], kind: "weird", html: "  ", partly_read: "yes" } } });
    expect(e).toEqual({ subject: "", from: null, to: [{ name: "", address: "a@b.c" }], cc: [], html: null, quoted: "", kind: "normal", partlyRead: false });
    expect(emailOf({ content_type: "email", data: {} })).toBeNull();
    expect(emailOf({ content_type: "text", data: { email: {} } })).toBeNull();
  });

  it("takes away image sources that are not ours, and anything active", () => {
    const doc = emailSrcdoc(
      '<img src="http://plain.example/a.png"><img src="https://x.example/b.png"><img src="data:image/svg+xml,<svg/>">' +
        '<object data="https://evil.example"></object><frameset></frameset><form action="https://evil.example"><input></form>' +
        '<meta http-equiv="refresh" content="0;url=https://evil.example"><a href="https://ok.example" onclick="x()">link</a>',
      "https://desk.test",
      false,
    );
    expect(doc).not.toContain("plain.example");
    expect(doc).toContain('data-src="https://x.example/b.png"');
    expect(doc).not.toContain("svg");
    expect(doc).not.toContain("evil.example");
    expect(doc).not.toContain("onclick");
    expect(doc).toContain('href="https://ok.example"');
    expect(hasRemoteImages('<img data-src="https://x.example/b.png">')).toBe(true);
    expect(hasRemoteImages('<img src="/files/1/2/3">')).toBe(false);
    expect(emailCsp("https://desk.test", false)).toBe("default-src 'none'; img-src data: https://desk.test/files/; style-src 'unsafe-inline'");
  });
});

describe("the first mail of a conversation an agent started", () => {
  it("shows the subject the agent gave above the text; other replies show none", () => {
    const first = mail({}, { kind: "outgoing", sender_type: "agent", content_type: "text", text: "Merhaba", data: { email: { subject: "Siparişiniz hakkında" } } });
    const w = mountMail(first);
    expect(w.get('[data-testid="email-subject"]').text()).toBe("Siparişiniz hakkında");
    expect(w.get('[data-testid="email-subject"]').attributes("dir")).toBe("auto");
    expect(w.text()).toContain("Merhaba");
    const reply = mountMail(mail({}, { kind: "outgoing", sender_type: "agent", content_type: "text", text: "Tamam", data: {} }));
    expect(reply.find('[data-testid="email-subject"]').exists()).toBe(false);
  });
});

describe("an email conversation in the list", () => {
  it("carries the email channel's icon and name", () => {
    setActivePinia(createPinia());
    useWorkspace().inboxes = [{ id: 4, name: "Support mail", channel_type: "email" } as Inbox];
    const w = mount(ConversationRow, { props: { conv: conversation(1, { inbox_id: 4 }), selected: false, now: new Date() }, global: { plugins: [i18n] } });
    const channel = w.get('[data-testid="row-channel"]');
    expect(channel.attributes("data-channel")).toBe("email");
    expect(channel.attributes("title")).toBe("Support mail · Email");
    expect(channel.get("path").attributes("d")).toBe("M3 5h18v14H3zM3 6l9 7 9-7");
  });
});
