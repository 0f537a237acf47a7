// What the ingest action keeps in a message's data beyond its text (docs/decisions/0038): sent
// from the provider's own app (echo), edited or unsent by the customer, reactions by contact,
// files still being fetched from the provider.
import type { Message } from "@/api/types";

export interface InboundFlags {
  echo: boolean;
  earlierTexts: string[];
  revoked: boolean;
  reactions: string[];
}

export function inboundFlags(message: Pick<Message, "data">): InboundFlags {
  const d = (message.data ?? {}) as Record<string, unknown>;
  const edits = Array.isArray(d.edits) ? (d.edits as { text?: unknown }[]) : [];
  const reactions = d.reactions && typeof d.reactions === "object" ? Object.values(d.reactions as Record<string, unknown>) : [];
  return {
    echo: d.echo === true,
    earlierTexts: edits.map((e) => (typeof e.text === "string" ? e.text : "")).filter(Boolean),
    revoked: !!d.revoked && typeof d.revoked === "object",
    reactions: reactions.filter((r): r is string => typeof r === "string" && r !== ""),
  };
}
