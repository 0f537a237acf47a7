// What the ingest action keeps beside a message's text (edits, an unsend, reactions, files
// still at the provider, an echo) shows on its bubble in the agent's language.
import { mount } from "@vue/test-utils";
import { beforeEach, describe, expect, it } from "vitest";
import type { Message } from "@/api/types";
import MessageBubble from "@/components/conversation/MessageBubble.vue";
import { inboundFlags } from "@/components/conversation/inboundFlags";
import { i18n } from "@/i18n";

function message(data: Record<string, unknown>, extra: Partial<Message> = {}): Message {
  return {
    id: 1,
    conversation_id: 7,
    inbox_id: 1,
    kind: "incoming",
    sender_type: "contact",
    sender_id: 5,
    text: "Hello",
    content_type: "text",
    source_id: "m-1",
    delivery_status: null,
    failure_reason: null,
    failure_detail: null,
    delivery_attempts: 0,
    next_attempt_at: null,
    annotations: [],
    data,
    created_at: "2026-12-07T10:00:00",
    ...extra,
  };
}

beforeEach(() => {
  i18n.global.locale.value = "en";
});

describe("inbound flags", () => {
  it("reads the documented data keys and ignores malformed ones", () => {
    const flags = inboundFlags(
      message({
        edits: [{ text: "Helo", edited_at: "x" }, { text: 5 }],
        revoked: { revoked_at: "x" },
        reactions: { "c-1": "👍", "c-2": "", "c-3": 7 },
        echo: true,
      }),
    );
    expect(flags).toEqual({ echo: true, earlierTexts: ["Helo"], revoked: true, reactions: ["👍"] });
    expect(inboundFlags(message({ edits: "no", reactions: null, revoked: true }))).toEqual({
      echo: false,
      earlierTexts: [],
      revoked: false,
      reactions: [],
    });
  });

  it("shows edited, unsent and reactions on the bubble, translated", () => {
    const data = { edits: [{ text: "Helo", edited_at: "x" }], revoked: { revoked_at: "x" }, reactions: { "c-1": "👍" } };
    const w = mount(MessageBubble, { props: { message: message(data), author: "Ann" }, global: { plugins: [i18n] } });
    expect(w.get('[data-testid="message-edited"]').text()).toBe("Edited");
    expect(w.get('[data-testid="message-edited"]').attributes("title")).toBe("Earlier: Helo");
    expect(w.get('[data-testid="message-revoked"]').text()).toBe("Unsent by the customer");
    expect(w.text()).toContain("Hello"); // the text stays for the agent
    expect(w.get('[data-testid="message-reactions"]').text()).toBe("👍");
    i18n.global.locale.value = "tr";
    const tr = mount(MessageBubble, { props: { message: message(data), author: "Ann" }, global: { plugins: [i18n] } });
    expect(tr.get('[data-testid="message-edited"]').text()).toBe("Düzenlendi");
    const plain = mount(MessageBubble, { props: { message: message({}), author: "Ann" }, global: { plugins: [i18n] } });
    expect(plain.find('[data-testid="message-edited"]').exists()).toBe(false);
    expect(plain.find('[data-testid="message-reactions"]').exists()).toBe(false);
  });
});
