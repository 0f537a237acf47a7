// The shapes of docs/channels/web-widget-protocol.md, as the widget sees them.

export type Lang = "en" | "tr" | "fa";

export interface WidgetConfig {
  colour: string;
  greeting: string;
  /** The greeting by language code (any language, not only the widget's own three). */
  greeting_translations?: Record<string, string>;
  invitation_text: string;
  invitation_text_translations?: Record<string, string>;
  prechat_enabled: boolean;
  prechat_fields: PrechatField[];
  offline_behaviour: "form" | "hide";
  language: string;
  agents_online: boolean;
  max_upload_bytes: number;
}

export type PrechatField = "name" | "email" | "phone";

export interface Attachment {
  file_name: string;
  content_type: string;
  size: number;
  url: string;
}

export interface WidgetMessage {
  id: number;
  client_id: string | null;
  direction: "visitor" | "agent";
  text: string;
  content_type: string;
  attachments: Attachment[];
  sender_name: string | null;
  created_at: string;
}

export interface PageInfo {
  url: string;
  title: string;
  referrer?: string;
}

export interface SessionAnswer {
  visitor_token: string;
  contact_id: number;
  conversation_id: number | null;
}

export interface UserSettings {
  id?: string;
  hash?: string;
  name?: string;
  email?: string;
}

export type ServerFrame =
  | {
      type: "ready";
      conversation_id: number | null;
      contact?: { name: string | null; email: string | null };
      agents_online: boolean;
      agents_read: boolean;
      messages: WidgetMessage[];
    }
  | { type: "message"; message: WidgetMessage }
  | { type: "ack"; client_id: string; message: WidgetMessage }
  | { type: "typing"; typing: boolean; name?: string | null }
  | { type: "read" }
  | { type: "conversation"; conversation_id: number; status: string; csat: boolean }
  | { type: "agents"; online: boolean }
  | { type: "error"; code: string; message: string; client_id?: string | null; retry_after?: number }
  | { type: "pong" };

export type ClientFrame =
  | { type: "hello"; visitor_token: string; last_message_id: number; page: PageInfo; language: string }
  | { type: "message"; client_id: string; text: string }
  | { type: "typing"; typing: boolean }
  | { type: "read"; up_to: number }
  | { type: "page"; url: string; title: string }
  | { type: "ping" };
