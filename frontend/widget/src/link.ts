// The visitor socket: hello first (the token never goes in the URL), a ping every 25 s, and
// reconnection with backoff. Close codes that mean "do not come back" (a bad token, a blocked
// visitor, a disabled inbox) stop the loop and are handed to the widget to decide.
import { Backoff } from "./backoff";
import type { ClientFrame, ServerFrame } from "./types";

const PING_MS = 25_000;
const CONNECT_TIMEOUT_MS = 10_000;
export const FINAL_CODES: readonly number[] = [4401, 4403, 4410];

export interface LinkHandlers {
  frame(frame: ServerFrame): void;
  /** `ready` arrived: the socket carries messages from now on */
  up(): void;
  /** the socket is gone or could not open; it will try again unless stopped (called per attempt) */
  down(): void;
  /** the server closed with a final code (4401, 4403, 4410); nothing more is tried */
  final(code: number): void;
}

export class Link {
  private ws: WebSocket | null = null;
  private ready = false;
  private stopped = true;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private ping: ReturnType<typeof setInterval> | undefined;
  private readonly backoff = new Backoff();

  constructor(
    private readonly url: string,
    private readonly hello: () => ClientFrame,
    private readonly on: LinkHandlers,
  ) {}

  get isUp(): boolean {
    return this.ready && this.ws?.readyState === 1;
  }

  /** Connects, unless already connected or trying to (a second socket would be a zombie). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.backoff.reset();
    this.open();
  }

  /** Closes the socket and opens a new one at once (a new visitor token). */
  restart(): void {
    this.drop();
    this.stopped = true;
    this.start();
  }

  stop(): void {
    this.stopped = true;
    this.drop();
  }

  send(frame: ClientFrame): boolean {
    if (!this.isUp || !this.ws) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  private open(): void {
    clearTimeout(this.retry);
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this.later();
      return;
    }
    this.ws = ws;
    // A connection that hangs (a proxy that swallows upgrades) counts as a failed attempt.
    const slow = setTimeout(() => ws.close(), CONNECT_TIMEOUT_MS);
    ws.onopen = () => ws.send(JSON.stringify(this.hello()));
    ws.onmessage = (event: MessageEvent) => {
      let frame: ServerFrame;
      try {
        frame = JSON.parse(String(event.data)) as ServerFrame;
      } catch {
        return;
      }
      if (frame.type === "ready") {
        clearTimeout(slow);
        this.ready = true;
        this.backoff.reset();
        clearInterval(this.ping);
        this.ping = setInterval(() => this.send({ type: "ping" }), PING_MS);
        this.on.up();
      }
      this.on.frame(frame);
    };
    ws.onclose = (event: CloseEvent) => {
      clearTimeout(slow);
      if (this.ws !== ws) return; // an old socket closing after a restart
      this.ws = null;
      this.ready = false;
      clearInterval(this.ping);
      if (FINAL_CODES.includes(event.code)) {
        this.stopped = true;
        this.on.final(event.code);
        return;
      }
      this.on.down();
      this.later();
    };
  }

  private later(): void {
    if (this.stopped) return;
    clearTimeout(this.retry);
    this.retry = setTimeout(() => this.open(), this.backoff.next());
  }

  private drop(): void {
    clearTimeout(this.retry);
    clearInterval(this.ping);
    const ws = this.ws;
    this.ws = null;
    this.ready = false;
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      ws.close();
    }
  }
}
