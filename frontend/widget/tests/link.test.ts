// The visitor socket comes back after a close the server does not mean as final: 4503 (the
// server lost its bus and may have missed events, docs/events.md) or a drop. Each new socket
// starts with a fresh hello, whose last_message_id brings what was missed; 4401/4403/4410 end it.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Link } from "../src/link";
import type { ClientFrame } from "../src/types";

class FakeSocket {
  static made: FakeSocket[] = [];
  readyState = 0;
  sent: string[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.made.push(this);
  }
  send(data: string): void {
    this.sent.push(data);
  }
  close(): void {}
  opened(): void {
    this.readyState = 1;
    this.onopen?.();
  }
  closedByServer(code: number): void {
    this.readyState = 3;
    this.onclose?.({ code });
  }
}

describe("Link", () => {
  beforeEach(() => {
    FakeSocket.made = [];
    vi.useFakeTimers();
    vi.stubGlobal("WebSocket", FakeSocket);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  function start() {
    let last = 0;
    const seen = { down: 0, final: [] as number[] };
    const hello = (): ClientFrame => ({
      type: "hello",
      visitor_token: "t",
      last_message_id: last,
      page: { url: "", title: "" },
      language: "en",
    });
    const link = new Link("ws://x/socket", hello, {
      frame: () => undefined,
      up: () => undefined,
      down: () => (seen.down += 1),
      final: (code) => seen.final.push(code),
    });
    link.start();
    return { link, seen, setLast: (id: number) => (last = id) };
  }

  it("reconnects after 4503 and says hello with the last message id it has", () => {
    const { link, seen, setLast } = start();
    const first = FakeSocket.made[0]!;
    first.opened();
    setLast(41);
    first.closedByServer(4503);
    expect(seen).toEqual({ down: 1, final: [] });
    vi.advanceTimersByTime(1500);
    const second = FakeSocket.made[1]!;
    second.opened();
    expect(JSON.parse(second.sent[0]!)).toMatchObject({ type: "hello", last_message_id: 41 });
    link.stop();
  });

  it.each([4401, 4403, 4410])("stops after the final code %i", (code) => {
    const { seen } = start();
    FakeSocket.made[0]!.opened();
    FakeSocket.made[0]!.closedByServer(code);
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.made).toHaveLength(1);
    expect(seen.final).toEqual([code]);
  });
});
