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
