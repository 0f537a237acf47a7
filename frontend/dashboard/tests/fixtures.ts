// Builders shared by the unit tests: whole API objects with sensible defaults.
import type { Conversation, Visit } from "@/api/types";

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
    reply_window: null,
    ...over,
  };
}

/** A website visit as GET …/visitors/live and GET …/contacts/{id}/visits return it (protocol doc). */
export function visit(id: number, over: Partial<Visit> = {}): Visit {
  return {
    id,
    workspace_id: 1,
    inbox_id: 2,
    contact: { id: 700 + id, name: `Istanbul ${700 + id}`, email: null, blocked: false },
    conversation_id: null,
    started_at: "2026-11-24T17:00:00+00:00",
    last_seen_at: "2026-11-24T17:05:00+00:00",
    left_at: null,
    time_on_site_seconds: 300,
    ip: "203.0.113.9",
    country_code: "TR",
    country: "Turkey",
    city: "Istanbul",
    isp: "Example Telekom",
    browser: "Chrome 131",
    os: "Windows 10",
    device: "desktop",
    language: "tr-TR",
    referrer: "https://www.google.com/",
    source_kind: "search",
    source: "Google",
    utm_source: null,
    utm_medium: null,
    utm_campaign: null,
    landing_url: "https://shop.example.com/",
    current_url: "https://shop.example.com/shoes?id=4",
    current_title: "Red shoes",
    page_count: 2,
    pages: [
      { url: "https://shop.example.com/", title: "Shop", at: "2026-11-24T17:00:00+00:00" },
      { url: "https://shop.example.com/shoes?id=4", title: "Red shoes", at: "2026-11-24T17:03:00+00:00" },
    ],
    ...over,
  };
}
