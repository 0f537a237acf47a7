// The reply window as the composer shows it (decision 0039): the server gives closes_at and the
// allowed ways; the countdown runs here against the agent's clock, so the composer turns amber
// in the last hour and closes at closes_at without asking the server again.
import type { ReplyWindow } from "@/api/types";

export const CLOSING_MS = 60 * 60 * 1000;

export type WindowState = "open" | "closing" | "closed" | "none";
export type Way = ReplyWindow["allowed"][number];

export interface WindowNow {
  state: WindowState;
  /** Milliseconds until free replies stop; null without a window (or once it is closed). */
  leftMs: number | null;
  /** Whether free text may be sent now. */
  freeText: boolean;
  /** The ways on once free text is not allowed (templates, tagged reply, another inbox). */
  waysOn: Way[];
}

/** The window at `nowMs`: the server's state, moved on by the clock since it was read. */
export function windowAt(w: ReplyWindow | null | undefined, nowMs: number): WindowNow {
  if (!w || w.state === "none") return { state: "none", leftMs: null, freeText: true, waysOn: [] };
  const waysOn = w.allowed.filter((a) => a !== "free_text");
  if (w.state === "closed" || !w.closes_at) return { state: "closed", leftMs: null, freeText: false, waysOn };
  const leftMs = Date.parse(w.closes_at) - nowMs;
  // The server offers other ways only once the window is closed; on the client's clock it may
  // close first: free text is then refused and the agent is told to read the conversation again.
  if (leftMs <= 0) return { state: "closed", leftMs: null, freeText: false, waysOn };
  return { state: leftMs <= CLOSING_MS ? "closing" : "open", leftMs, freeText: true, waysOn: [] };
}

/** Whole hours and minutes left, rounded up to the minute ("0 h 1 min" in the last seconds). */
export function countdownParts(leftMs: number): { hours: number; minutes: number } {
  const minutes = Math.max(1, Math.ceil(leftMs / 60_000));
  return { hours: Math.floor(minutes / 60), minutes: minutes % 60 };
}
