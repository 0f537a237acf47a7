// Dates and numbers in the agent's language (Persian digits and calendar for fa).
import { intlLocale } from "@/i18n";

const cache = new Map<string, Intl.DateTimeFormat>();

function dateFormat(options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const locale = intlLocale();
  const key = locale + JSON.stringify(options);
  let f = cache.get(key);
  if (!f) cache.set(key, (f = new Intl.DateTimeFormat(locale, options)));
  return f;
}

export function formatTime(iso: string): string {
  return dateFormat({ hour: "2-digit", minute: "2-digit" }).format(new Date(iso));
}

export function formatDateTime(iso: string): string {
  return dateFormat({ dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
}

export function formatDay(iso: string): string {
  return dateFormat({ weekday: "long", day: "numeric", month: "long", year: "numeric" }).format(new Date(iso));
}

/** A list row's time: the clock today, the day's name this week, else the date. */
export function formatListTime(iso: string, now: Date = new Date()): string {
  const d = new Date(iso);
  if (d.toDateString() === now.toDateString()) return formatTime(iso);
  if (now.getTime() - d.getTime() < 6 * 86_400_000) return dateFormat({ weekday: "short" }).format(d);
  return dateFormat({ day: "numeric", month: "short" }).format(d);
}

export function formatNumber(n: number): string {
  return new Intl.NumberFormat(intlLocale()).format(n);
}

/** The key day separators group by: the local calendar day. */
export function dayKey(iso: string): string {
  return new Date(iso).toDateString();
}

const unitCache = new Map<string, Intl.NumberFormat>();

function unitFormat(unit: "hour" | "minute" | "second"): Intl.NumberFormat {
  const locale = intlLocale();
  const key = `${locale}:${unit}`;
  let f = unitCache.get(key);
  if (!f) unitCache.set(key, (f = new Intl.NumberFormat(locale, { style: "unit", unit, unitDisplay: "short" })));
  return f;
}

/** A length of time in the agent's language: "2 hr, 5 min" / "4 min, 10 sec" / "12 sec". */
export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const seconds = s % 60;
  const parts: string[] = [];
  // Two units are enough to read at a glance; seconds stop mattering after an hour.
  if (hours) {
    parts.push(unitFormat("hour").format(hours));
    if (minutes) parts.push(unitFormat("minute").format(minutes));
  } else if (minutes) {
    parts.push(unitFormat("minute").format(minutes));
    if (seconds) parts.push(unitFormat("second").format(seconds));
  } else parts.push(unitFormat("second").format(seconds));
  return new Intl.ListFormat(intlLocale(), { type: "unit", style: "short" }).format(parts);
}

/** "5 minutes ago", "yesterday"… for a past moment. */
export function formatRelative(iso: string, now: number = Date.now()): string {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const rtf = new Intl.RelativeTimeFormat(intlLocale(), { numeric: "auto" });
  const abs = Math.abs(seconds);
  if (abs < 60) return rtf.format(seconds, "second");
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), "minute");
  if (abs < 86_400) return rtf.format(Math.round(seconds / 3600), "hour");
  return rtf.format(Math.round(seconds / 86_400), "day");
}
