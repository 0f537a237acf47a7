// Pure helpers for the conversation view: activity lines in the agent's language and the
// snooze presets.
import type { Message } from "@/api/types";

type T = (key: string, params?: Record<string, unknown>) => string;

interface ActivityData {
  activity?: string;
  status?: string;
  assignee_id?: number | null;
  team_id?: number | null;
  priority?: string;
  user_id?: number;
  by?: string;
  comment?: string | null;
  snoozed_until?: string | null;
  by_reply?: boolean;
  name?: string;
  url?: string;
}

export interface Names {
  member: (id: number | null | undefined) => string;
  team: (id: number | null | undefined) => string;
  date: (iso: string) => string;
}

/** The sentence of an activity line, from message.data.activity and its details; the server's text otherwise. */
export function activityText(message: Pick<Message, "data" | "sender_id" | "text">, t: T, names: Names): string {
  const d = (message.data ?? {}) as ActivityData;
  const by = (message.sender_id !== null && message.sender_id !== undefined ? names.member(message.sender_id) : "") || d.by || t("conversation.activity.system");
  switch (d.activity) {
    case "status_changed":
      if (d.status === "resolved") return t("conversation.activity.resolved", { by });
      if (d.status === "open") return t("conversation.activity.reopened", { by });
      if (d.status === "pending") return t("conversation.activity.pending", { by });
      if (d.status === "snoozed")
        return d.snoozed_until
          ? t("conversation.activity.snoozed", { by, until: names.date(d.snoozed_until) })
          : t("conversation.activity.snoozedNoTime", { by });
      break;
    case "snooze_ended":
      return t("conversation.activity.snoozeEnded");
    case "assigned": {
      if (d.by_reply) return t("conversation.activity.takenByReply", { by });
      const parts = [names.member(d.assignee_id), names.team(d.team_id)].filter(Boolean);
      const target = parts.length ? parts.join(" / ") : t("conversation.activity.nobody");
      return d.comment
        ? t("conversation.activity.transferred", { by, target, comment: d.comment })
        : t("conversation.activity.assigned", { by, target });
    }
    case "priority_changed":
      return t("conversation.activity.priority", { by, priority: t(`conversation.priority.${d.priority ?? "none"}`) });
    case "followed":
      return t("conversation.activity.followed", { name: d.name ?? "" });
    case "unfollowed":
      return t("conversation.activity.unfollowed", { name: d.name ?? "" });
    case "opened_link":
      return t("conversation.activity.openedLink", { name: d.name ?? "", url: d.url ?? "" });
    case "participant_added":
      return t("conversation.activity.participantAdded", { by, user: names.member(d.user_id) });
    case "participant_removed":
    case "participant_left":
      if (d.user_id !== undefined && d.user_id === message.sender_id)
        return t("conversation.activity.participantLeft", { user: names.member(d.user_id) });
      return t("conversation.activity.participantRemoved", { by, user: names.member(d.user_id) });
  }
  return message.text;
}

/** A customer's rating (CSAT activity line, content_type "csat"): 1–5 stars and their comment. */
export function csatOf(message: Pick<Message, "content_type" | "data">): { rating: number; comment: string | null } | null {
  if (message.content_type !== "csat") return null;
  const d = (message.data ?? {}) as { rating?: unknown; comment?: unknown };
  const rating = typeof d.rating === "number" ? Math.round(d.rating) : Number.NaN;
  if (!(rating >= 1 && rating <= 5)) return null;
  const comment = typeof d.comment === "string" && d.comment.trim() ? d.comment.trim() : null;
  return { rating, comment };
}

export interface SnoozeOption {
  key: "hour" | "tonight" | "tomorrow" | "nextWeek";
  until: Date;
}

/** The snooze presets from a moment: in an hour, tonight 18:00 (if before 17:00), tomorrow 9:00, next Monday 9:00. */
export function snoozeOptions(now: Date): SnoozeOption[] {
  const options: SnoozeOption[] = [{ key: "hour", until: new Date(now.getTime() + 3_600_000) }];
  const tonight = new Date(now);
  tonight.setHours(18, 0, 0, 0);
  if (tonight.getTime() - now.getTime() >= 3_600_000) options.push({ key: "tonight", until: tonight });
  const tomorrow = new Date(now);
  tomorrow.setDate(now.getDate() + 1);
  tomorrow.setHours(9, 0, 0, 0);
  options.push({ key: "tomorrow", until: tomorrow });
  const monday = new Date(now);
  const days = ((8 - now.getDay()) % 7) || 7;
  monday.setDate(now.getDate() + days);
  monday.setHours(9, 0, 0, 0);
  options.push({ key: "nextWeek", until: monday });
  return options;
}

/** A value for <input type="datetime-local"> in local time. */
export function toLocalInput(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
