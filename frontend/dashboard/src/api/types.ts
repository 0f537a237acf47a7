// Names for the API's shapes, taken from the generated schema.
import type { components } from "./schema";

type S = components["schemas"];
export type Conversation = S["Conversation"];
export type ReplyWindow = S["ReplyWindow"];
export type ConversationPage = S["ConversationPage"];
export type Message = S["Message"];
export type Contact = S["Contact"];
export type ContactDetail = S["ContactDetail"];
export type Inbox = S["Inbox"];
/** GET …/inboxes/{id}/email-addresses: where an email inbox receives and what to forward to it. */
export type EmailAddresses = S["EmailAddresses"];
export type ConnectionTest = S["ConnectionTest"];
export type ConnectionCheck = S["ConnectionCheckOut"];
export type EntryPoint = S["EntryPointOut"];
export type ImapStatus = S["ImapStatus"];
export type EmailDns = S["EmailDns"];
export type EmailDnsCheck = S["EmailDnsCheck"];
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

// Administration, presence and notifications (fe-admin).
/** GET /api/v1/channel-types: one entry per registered channel adapter. */
export interface ChannelType {
  type: string;
  /** JSON Schema of the adapter's settings (pydantic's model_json_schema). */
  settings_schema: JsonSchema;
  secret_fields: SecretFieldInfo[];
  /** The channel's Test connection calls its provider (POST …/inboxes/{id}/check-connection). */
  checks_connection?: boolean;
}

/** A write-only secret of a channel; `shown_when` limits it to some settings (email: own_server). */
export interface SecretFieldInfo {
  name: string;
  description: string | null;
  /** Frontdesk makes it (signing keys); the others (email passwords) only the administrator knows. */
  generated?: boolean;
  shown_when?: Record<string, string[]> | null;
}

/** The subset of JSON Schema the inbox settings form understands. */
export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  items?: JsonSchema;
  maxItems?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  definitions?: Record<string, JsonSchema>;
  const?: unknown;
  /** Frontdesk's own keyword: show the field only while these settings have one of these values. */
  "x-shown-when"?: Record<string, string[]>;
  /** Frontdesk's own keyword: an object of texts by language code (web: greeting_translations). */
  "x-per-language"?: boolean;
  /** Pydantic's shape of a dict with constrained keys: {key pattern: value schema}. */
  patternProperties?: Record<string, JsonSchema>;
}

/** An inbox as the administration screens see it (is_enabled arrives with the admin endpoints). */
export interface AdminInbox {
  id: number;
  name: string;
  channel_type: string;
  uid: string;
  settings: Record<string, unknown>;
  webhook_path: string;
  created_at: string;
  is_enabled?: boolean;
  member_ids?: number[];
  secrets?: Record<string, unknown>;
  /** After a save: what failed in the channel's setup step (the inbox is saved all the same). */
  setup_warning?: string | null;
}

/** POST …/invitations */
export interface InvitationCreated {
  email: string;
  role: Role;
  token: string;
}

/** GET /api/v1/invitations/{token} */
export interface InvitationInfo {
  workspace_name: string;
  email: string;
  role: Role;
}

/** Data of the ephemeral conversation.offered event. */
export interface OfferedData {
  conversation_id: number;
  offered_by: number;
  contact_name: string;
  preview: string;
  inbox_id: number;
}

// Website visitors (docs/channels/web-widget-protocol.md, "Dashboard endpoints").
/** A visit of a website visitor: GET …/contacts/{id}/visits and GET …/visitors/live (LiveVisitor). */
export type Visit = S["Visit"];
/** GET …/contacts/{id}/visits */
export type ContactVisits = S["ContactVisits"];
/** GET …/visitors/live */
export type LiveVisitors = S["LiveVisitors"];
