// Names for the API's shapes, taken from the generated schema.
import type { components } from "./schema";

type S = components["schemas"];
export type Conversation = S["Conversation"];
export type ConversationPage = S["ConversationPage"];
export type Message = S["Message"];
export type Contact = S["Contact"];
export type ContactDetail = S["ContactDetail"];
export type Inbox = S["Inbox"];
export type TabCounts = S["TabCounts"];

export type ConversationStatus = "open" | "pending" | "snoozed" | "resolved";
export type Priority = "none" | "low" | "medium" | "high" | "urgent";

/** An event from the websocket or GET …/events. */
export interface StreamEvent {
  seq: number | null;
  type: string;
  workspace_id: number;
  inbox_id: number | null;
  created_at?: string | null;
  data: Record<string, unknown>;
}

// Shapes of endpoints whose OpenAPI response is not typed yet (see docs/decisions/0008).
export type Role = "administrator" | "supervisor" | "agent";
export type Presence = "online" | "away" | "offline";

export interface Preferences {
  theme: "light" | "dark" | "system";
  sound: boolean;
  browser_notifications: boolean;
  notify_on: ("new_conversation" | "new_message" | "mention" | "assignment")[];
  auto_away_minutes: number;
  hotkeys: boolean;
}

export interface Me {
  id: number;
  email: string;
  name: string;
  display_name: string | null;
  locale: string;
  avatar_url: string | null;
  preferences: Preferences;
  workspaces: { id: number; name: string; role: Role }[];
}

export interface Member {
  user_id: number;
  email: string;
  name: string;
  display_name: string | null;
  avatar_url: string | null;
  role: Role;
  is_active: boolean;
  availability: Presence;
  status: Presence;
  team_ids: number[];
  inbox_ids: number[];
}

export interface Team {
  id: number;
  name: string;
  member_ids: number[];
}

export interface Label {
  id: number;
  name: string;
  color: string;
}

export interface CannedResponse {
  id: number;
  short_code: string;
  text: string;
}
