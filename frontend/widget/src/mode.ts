// What the widget shows, decided from its state alone (so it can be tested without a DOM).
import type { WidgetConfig } from "./types";

export interface ModeState {
  config: Pick<WidgetConfig, "offline_behaviour" | "prechat_enabled" | "prechat_fields">;
  agentsOnline: boolean;
  hasConversation: boolean;
  blocked: boolean;
  prechatDone: boolean;
  csatPending: boolean;
}

export type FooterMode = "blocked" | "offline" | "prechat" | "csat" | "composer";

/** The part under the message log: the composer or one of the forms. */
export function footerMode(s: ModeState): FooterMode {
  if (s.blocked) return "blocked";
  if (!s.hasConversation) {
    if (!s.agentsOnline && s.config.offline_behaviour === "form") return "offline";
    if (s.config.prechat_enabled && s.config.prechat_fields.length && !s.prechatDone) return "prechat";
  }
  return s.csatPending ? "csat" : "composer";
}

/** With no agent online and "hide", a new visitor sees no widget at all; a blocked one still
 * sees why they cannot chat. */
export function widgetHidden(s: ModeState): boolean {
  return !s.blocked && !s.agentsOnline && s.config.offline_behaviour === "hide" && !s.hasConversation;
}
