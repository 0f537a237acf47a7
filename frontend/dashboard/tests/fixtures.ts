// Builders shared by the unit tests: whole API objects with sensible defaults.
import type { Conversation } from "@/api/types";

/** A conversation as the API returns it; `id` also sets its number, contact and activity time. */
export function conversation(id: number, over: Partial<Conversation> = {}): Conversation {
  return {
    id,
    number: id,
    inbox_id: 1,
    contact: { id: 100 + id, name: `Contact ${id}` },
    status: "open",
    snoozed_until: null,
    assignee_id: null,
    team_id: null,
    priority: "none",
    labels: [],
    last_activity_at: new Date(Date.UTC(2025, 0, 1, 0, 0, id)).toISOString(),
    waiting_since: null,
    first_reply_at: null,
    first_reply_seconds: null,
    last_message_preview: `hello ${id}`,
    unread_count: 0,
    created_at: "2025-01-01T00:00:00Z",
    ...over,
  };
}
