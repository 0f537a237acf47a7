// Pure text helpers of the composer: the `/short-code` and `@mention` word under the caret,
// filtering canned replies and members, and inserting text at the caret.
import type { CannedResponse, Member } from "@/api/types";

export interface Token {
  /** Index of the trigger character ("/" or "@"). */
  start: number;
  /** The caret position (end of the token). */
  end: number;
  /** What follows the trigger, up to the caret. */
  query: string;
}

/** The word being typed at the caret when it starts with `trigger` at the start of a word. */
export function tokenAt(text: string, caret: number, trigger: "/" | "@"): Token | null {
  let i = caret;
  while (i > 0 && !/\s/.test(text[i - 1]!)) i -= 1;
  if (text[i] !== trigger) return null;
  const query = text.slice(i + 1, caret);
  if (query.includes(trigger)) return null;
  return { start: i, end: caret, query };
}

/** Canned replies whose short code starts with (then contains) the query, short codes first. */
export function filterCanned(canned: CannedResponse[], query: string, limit = 8): CannedResponse[] {
  const q = query.trim().toLowerCase();
  if (!q) return canned.slice().sort((a, b) => a.short_code.localeCompare(b.short_code)).slice(0, limit);
  const starts = canned.filter((c) => c.short_code.toLowerCase().startsWith(q));
  const contains = canned.filter((c) => !starts.includes(c) && c.short_code.toLowerCase().includes(q));
  const byText = canned.filter(
    (c) => !starts.includes(c) && !contains.includes(c) && c.text.toLowerCase().includes(q),
  );
  const sort = (list: CannedResponse[]): CannedResponse[] => list.sort((a, b) => a.short_code.localeCompare(b.short_code));
  return [...sort(starts), ...sort(contains), ...sort(byText)].slice(0, limit);
}

/** The handle the server recognises for a member: the name without spaces (see domain/rules.py). */
export function mentionHandle(member: Pick<Member, "name" | "email">): string {
  const compact = member.name.replace(/\s+/g, "");
  return /^[\w.-]+$/u.test(compact) ? compact : member.email;
}

export function filterMembers(members: Member[], query: string, limit = 6): Member[] {
  const q = query.toLowerCase();
  return members
    .filter((m) => m.is_active !== false)
    .filter(
      (m) =>
        !q ||
        m.name.toLowerCase().replace(/\s+/g, "").includes(q) ||
        (m.display_name ?? "").toLowerCase().includes(q) ||
        m.email.toLowerCase().startsWith(q),
    )
    .slice(0, limit);
}

/** Replaces text[start, end) with `insert`; returns the new text and caret. */
export function replaceRange(text: string, start: number, end: number, insert: string): { text: string; caret: number } {
  return { text: text.slice(0, start) + insert + text.slice(end), caret: start + insert.length };
}

/** Splits a note into plain text and @mention parts, for highlighting (no HTML). */
export function splitMentions(text: string): { text: string; mention: boolean }[] {
  const parts: { text: string; mention: boolean }[] = [];
  const re = /(?<![\w@])@([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}|[\w.-]+)/gu;
  let last = 0;
  for (const m of text.matchAll(re)) {
    const at = m.index ?? 0;
    if (at > last) parts.push({ text: text.slice(last, at), mention: false });
    parts.push({ text: m[0], mention: true });
    last = at + m[0].length;
  }
  if (last < text.length) parts.push({ text: text.slice(last), mention: false });
  return parts;
}

/** Splits text into plain parts and http(s) links, for rendering links as nodes (no HTML strings). */
export function splitLinks(text: string): { text: string; href: string | null }[] {
  const parts: { text: string; href: string | null }[] = [];
  const re = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g;
  let last = 0;
  for (const m of text.matchAll(re)) {
    const at = m.index ?? 0;
    if (at > last) parts.push({ text: text.slice(last, at), href: null });
    parts.push({ text: m[0], href: m[0] });
    last = at + m[0].length;
  }
  if (last < text.length) parts.push({ text: text.slice(last), href: null });
  return parts;
}

export function formatBytes(size: number, format: (n: number) => string): string {
  if (size < 1024) return `${format(size)} B`;
  if (size < 1024 * 1024) return `${format(Math.round(size / 102.4) / 10)} KB`;
  return `${format(Math.round(size / (1024 * 102.4)) / 10)} MB`;
}
