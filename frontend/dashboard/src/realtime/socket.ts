// The workspace's websocket: one per tab. It resumes after a drop with ?since= the last seq seen,
// backs off while the server is away, and hands each event to whoever subscribed to its type.
import type { StreamEvent } from "@/api/types";

type Handler = (event: StreamEvent) => void;

export class Stream {
  private ws: WebSocket | null = null;
  private lastSeq = 0;
  private attempt = 0;
  private stopped = true;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private readonly handlers = new Map<string, Set<Handler>>();
  private readonly seen = new Set<number>();
  /** True between the server's "ready" frame and the next drop. */
  connected = false;
  onStatus: ((connected: boolean) => void) | null = null;

  constructor(private readonly workspaceId: number) {}

  on(type: string, handler: Handler): () => void {
    let set = this.handlers.get(type);
    if (!set) this.handlers.set(type, (set = new Set()));
    set.add(handler);
    return () => set.delete(handler);
  }

  start(): void {
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.ws?.close(1000);
    this.ws = null;
    this.setConnected(false);
  }

  send(frame: Record<string, unknown>): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }

  /** Delivers an event as if it came from the server (used by tests and optimistic updates). */
  dispatch(event: StreamEvent): void {
    if (event.seq !== null) {
      // Resume replays overlap on purpose (docs/events.md): drop what was already applied.
      if (this.seen.has(event.seq)) return;
      this.seen.add(event.seq);
      if (this.seen.size > 5000) this.seen.clear();
      this.lastSeq = Math.max(this.lastSeq, event.seq);
    }
    for (const handler of this.handlers.get(event.type) ?? []) handler(event);
    for (const handler of this.handlers.get("*") ?? []) handler(event);
  }

  private open(): void {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const since = this.lastSeq ? `?since=${this.lastSeq}` : "";
    const ws = new WebSocket(`${scheme}://${location.host}/api/v1/workspaces/${this.workspaceId}/stream${since}`);
    this.ws = ws;
    ws.onmessage = (msg) => {
      const frame = JSON.parse(String(msg.data)) as StreamEvent & { last_seq?: number };
      if (frame.type === "ready") {
        this.attempt = 0;
        if (!this.lastSeq && frame.last_seq) this.lastSeq = frame.last_seq;
        this.setConnected(true);
        return;
      }
      if (frame.type === "pong" || frame.type === "error") return;
      this.dispatch(frame);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.setConnected(false);
      if (this.pingTimer) clearInterval(this.pingTimer);
      if (this.stopped) return;
      const delay = Math.min(30_000, 500 * 2 ** this.attempt) * (0.5 + Math.random() / 2);
      this.attempt += 1;
      this.retryTimer = setTimeout(() => this.open(), delay);
    };
    ws.onopen = () => {
      this.pingTimer = setInterval(() => this.send({ type: "ping" }), 25_000);
    };
  }

  private setConnected(value: boolean): void {
    if (this.connected === value) return;
    this.connected = value;
    this.onStatus?.(value);
  }
}
