// The workspace stream resumes after the server closes it: with 4503 (the server lost its bus,
// docs/events.md) or 4408 it reconnects with back-off and ?since= the last seq it applied.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Stream } from "@/realtime/socket";

class FakeSocket {
  static made: FakeSocket[] = [];
  static readonly OPEN = 1;
  readyState = 0;
  onopen: (() => void) | null = null;
  onmessage: ((msg: { data: string }) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.made.push(this);
  }
  send(): void {}
  close(): void {}
  frame(data: unknown): void {
    this.onmessage?.({ data: JSON.stringify(data) });
  }
  closedByServer(code: number): void {
    this.readyState = 3;
    this.onclose?.({ code });
  }
}

describe("Stream resume", () => {
  beforeEach(() => {
    FakeSocket.made = [];
    vi.useFakeTimers();
    vi.stubGlobal("WebSocket", FakeSocket);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it.each([4503, 4408])("reconnects with ?since= after close code %i", (code) => {
    const stream = new Stream(3);
    const seen: number[] = [];
    stream.on("message.created", (e) => seen.push(e.seq!));
    stream.start();
    const first = FakeSocket.made[0]!;
    expect(first.url).toMatch(/\/api\/v1\/workspaces\/3\/stream$/);
    first.frame({ type: "ready", last_seq: 10 });
    first.frame({ seq: 11, type: "message.created", workspace_id: 3, inbox_id: 1, created_at: "", data: {} });
    expect(stream.connected).toBe(true);
    first.closedByServer(code);
    expect(stream.connected).toBe(false);
    vi.advanceTimersByTime(1000);
    const second = FakeSocket.made[1]!;
    expect(second.url).toMatch(/\/stream\?since=11$/);
    // The replay overlaps what was applied: applied once.
    second.frame({ seq: 11, type: "message.created", workspace_id: 3, inbox_id: 1, created_at: "", data: {} });
    second.frame({ seq: 12, type: "message.created", workspace_id: 3, inbox_id: 1, created_at: "", data: {} });
    second.frame({ type: "ready", last_seq: 12 });
    expect(seen).toEqual([11, 12]);
    expect(stream.connected).toBe(true);
    stream.stop();
  });
});
