// Pure helpers that turn a website visit (docs/channels/web-widget-protocol.md) into what the
// agent reads: place and language names in the agent's language, the traffic source, the
// time on site that keeps ticking while the visitor is still there.
import type { Visit } from "@/api/types";
import { intlLocale } from "@/i18n";

type T = (key: string, params?: Record<string, unknown>) => string;

/** A visit that was not touched for this long is no longer "online", whatever its left_at says. */
export const ONLINE_WINDOW_MS = 10 * 60_000;

function displayName(type: "region" | "language", code: string): string | null {
  try {
    const name = new Intl.DisplayNames([intlLocale()], { type }).of(code);
    return name && name !== code ? name : null;
  } catch {
    // An unknown or malformed code (the visitor's browser sends what it likes).
    return null;
  }
}

/** The country's name in the agent's language, else the server's English name. */
export function countryName(visit: Pick<Visit, "country_code" | "country">): string {
  return (visit.country_code && displayName("region", visit.country_code.toUpperCase())) || visit.country || "";
}

/** "Istanbul, Türkiye" — whatever is known; "" when nothing is. The flag is an image beside it
 * (PlaceText.vue): flag emoji show as empty boxes without an emoji font. */
export function placeText(visit: Pick<Visit, "country_code" | "country" | "city">): string {
  return [visit.city, countryName(visit)].filter(Boolean).join(", ");
}

/** The browser's language tag as a name in the agent's language ("tr-TR" → "Turkish (Türkiye)"). */
export function languageName(tag: string | null | undefined): string {
  if (!tag) return "";
  return displayName("language", tag) ?? tag;
}

/** "Search · Google", "Campaign · newsletter", "Direct". */
export function sourceText(visit: Pick<Visit, "source_kind" | "source">, t: T): string {
  if (!visit.source_kind) return visit.source ?? "";
  const kind = t(`visitors.sourceKind.${visit.source_kind}`);
  return visit.source && visit.source_kind !== "direct" ? `${kind} · ${visit.source}` : kind;
}

/** "Chrome 131 · Windows 10 · Desktop". */
export function clientText(visit: Pick<Visit, "browser" | "os" | "device">, t: T): string {
  return [visit.browser, visit.os, visit.device ? t(`visitors.deviceName.${visit.device}`) : null].filter(Boolean).join(" · ");
}

/** Whether the visitor is on the site now: no departure recorded and seen recently. */
export function isOnline(visit: Pick<Visit, "left_at" | "last_seen_at">, now: number = Date.now()): boolean {
  return visit.left_at === null && now - new Date(visit.last_seen_at).getTime() < ONLINE_WINDOW_MS;
}

/**
 * Seconds on the site now. The server counted up to the moment it answered (`receivedAt`, this
 * browser's clock); while the visitor is still there the count goes on from that moment, so a
 * skewed clock on either side does not matter.
 */
export function secondsOnSite(visit: Pick<Visit, "time_on_site_seconds" | "left_at">, receivedAt: number, now: number = Date.now()): number {
  const base = Math.max(0, visit.time_on_site_seconds);
  if (visit.left_at !== null) return base;
  return base + Math.max(0, Math.floor((now - receivedAt) / 1000));
}

/** A page's link text: its title, else the address without the scheme. */
export function pageLabel(url: string | null, title: string | null): string {
  if (title && title.trim()) return title.trim();
  return (url ?? "").replace(/^https?:\/\//, "");
}

/** Only http(s) addresses become links (the data comes from the visitor's browser). */
export function safeHref(url: string | null | undefined): string | undefined {
  return url && /^https?:\/\//i.test(url) ? url : undefined;
}
