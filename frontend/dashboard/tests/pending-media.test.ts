// Files a message arrived with that are still at the provider (data.pending_media): the agent
// sees each being downloaded, or why it could not be, in their language; fetched ones are
// ordinary attachments.
import { mount } from "@vue/test-utils";
import { beforeEach, describe, expect, it } from "vitest";
import type { Message } from "@/api/types";
import MessageBubble from "@/components/conversation/MessageBubble.vue";
import { i18n } from "@/i18n";

function withData(data: Record<string, unknown>): Message {
  return {
    id: 1,
    conversation_id: 7,
    inbox_id: 1,
    kind: "incoming",
    sender_type: "contact",
    sender_id: 5,
    text: "see attached",
    content_type: "text",
    source_id: "m-1",
    delivery_status: null,
    failure_reason: null, failure_detail: null, delivery_attempts: 0, next_attempt_at: null,
    annotations: [],
    data,
    created_at: "2026-12-07T10:00:00",
  };
}

function lines(data: Record<string, unknown>) {
  const w = mount(MessageBubble, { props: { message: withData(data), author: "Ann" }, global: { plugins: [i18n] } });
  return w.findAll('[data-testid="message-pending-file"]').map((li) => [li.attributes("data-status"), li.text()]);
}

beforeEach(() => {
  i18n.global.locale.value = "en";
});

describe("files still at the provider", () => {
  it("shows a file being downloaded and a failed one with its reason", () => {
    expect(
      lines({
        pending_media: [
          { index: 0, reference: "https://x/a", file_name: "photo.png", content_type: "image/png", size: null },
          { index: 1, reference: "https://x/b", file_name: "big.mov", status: "failed", reason: "too_large", detail: "larger than 1000 bytes" },
          { index: 2, reference: "https://x/c", file_name: null, status: "failed", reason: "internal_error", detail: "boom" },
        ],
      }),
    ).toEqual([
      ["pending", "Downloading photo.png…"],
      ["failed", "big.mov could not be downloaded: it is larger than this installation accepts"],
      ["failed", "a file could not be downloaded: the provider did not give it"],
    ]);
  });

  it("says it in Turkish and Persian too", () => {
    const expired = { pending_media: [{ index: 0, file_name: "a.png", status: "failed", reason: "attachment_missing" }] };
    i18n.global.locale.value = "tr";
    expect(lines(expired)).toEqual([["failed", "a.png indirilemedi: bağlantının süresi dolmuş ya da dosya kaldırılmış"]]);
    i18n.global.locale.value = "fa";
    expect(lines(expired)).toEqual([["failed", "a.png دریافت نشد: پیوند منقضی شده یا پرونده حذف شده است"]]);
  });

  it("shows nothing once every file is attached", () => {
    expect(lines({ attachments: [{ file_name: "a.png", content_type: "image/png", size: 3, url: "/files/2026/12/x" }] })).toEqual([]);
  });
});
