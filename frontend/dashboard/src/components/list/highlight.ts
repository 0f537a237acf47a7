// Splits text into plain and matching pieces for search results, to be rendered as text nodes
// and <mark> elements (never as HTML). Also cuts a long message to the part around the match.

export interface Piece {
  text: string;
  match: boolean;
}

/** The words of a query as the server's search takes them (letters and digits, up to 8). */
export function searchWords(query: string): string[] {
  return (query.match(/[\p{L}\p{N}_]+/gu) ?? []).slice(0, 8);
}

function escape(word: string): string {
  return word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Text around the first match, at most `max` characters, with an ellipsis where it was cut. */
export function snippet(text: string, words: string[], max = 120): string {
  const flat = text.replace(/\s+/g, " ").trim();
  if (flat.length <= max) return flat;
  const lower = flat.toLocaleLowerCase();
  let at = -1;
  for (const w of words) {
    const i = lower.indexOf(w.toLocaleLowerCase());
    if (i !== -1 && (at === -1 || i < at)) at = i;
  }
  const start = at > 30 ? at - 30 : 0;
  const cut = flat.slice(start, start + max);
  return (start > 0 ? "…" : "") + cut + (start + max < flat.length ? "…" : "");
}

/** The text in pieces, with every word of the query (as a prefix, any case) marked. */
export function highlight(text: string, words: string[]): Piece[] {
  if (!words.length || !text) return text ? [{ text, match: false }] : [];
  const re = new RegExp(`(${words.map(escape).join("|")})`, "giu");
  const out: Piece[] = [];
  let last = 0;
  for (const m of text.matchAll(re)) {
    const i = m.index ?? 0;
    if (!m[0]) continue;
    if (i > last) out.push({ text: text.slice(last, i), match: false });
    out.push({ text: m[0], match: true });
    last = i + m[0].length;
  }
  if (last < text.length) out.push({ text: text.slice(last), match: false });
  return out;
}
