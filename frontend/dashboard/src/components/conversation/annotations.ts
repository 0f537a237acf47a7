// The system's annotations of a message (a file left out, a mail not read whole), worded in the
// agent's language. They come beside the message's text (message.annotations), never inside it.
import type { Message } from "@/api/types";
import { formatBytes } from "./composerText";

type T = (key: string, params?: Record<string, unknown>) => string;

export interface AnnotationLine {
  code: string;
  text: string;
}

const REASONS = ["type_not_allowed", "empty_file", "content_mismatch", "file_name_too_long"];

function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function num(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

/** One sentence per annotation; a code this dashboard does not know reads as a generic line. */
export function annotationLines(
  message: Pick<Message, "annotations">,
  t: T,
  formatNumber: (n: number) => string,
): AnnotationLine[] {
  const list = Array.isArray(message.annotations) ? message.annotations : [];
  return list.map((a) => {
    const p = a as Record<string, unknown>;
    const filename = str(p.filename);
    const size = formatBytes(num(p.size), formatNumber);
    switch (a.code) {
      case "attachment_too_large":
        return { code: a.code, text: t("conversation.annotation.attachmentTooLarge", { filename, size, limit: formatBytes(num(p.limit), formatNumber) }) };
      case "attachment_refused": {
        const reason = REASONS.includes(str(p.reason)) ? str(p.reason) : "other";
        return { code: a.code, text: t(`conversation.annotation.attachmentRefused.${reason}`, { filename, size, type: str(p.content_type) || "?" }) };
      }
      case "email_unreadable":
        return { code: a.code, text: t("conversation.annotation.emailUnreadable", { original: str(p.original) || "message.eml", detail: str(p.detail) }) };
    }
    return { code: String(a.code), text: t("conversation.annotation.unknown", { code: String(a.code) }) };
  });
}

