// The visitor's "typing" frames: at most one `true` every 2 s while the box has text, and one
// `false` when it empties or the message is sent (only if a `true` went out before it).

export class TypingThrottle {
  private sentAt: number | null = null; // when the last `true` went out

  constructor(
    private readonly send: (typing: boolean) => boolean, // false when the socket is down
    private readonly everyMs = 2_000,
    private readonly now: () => number = Date.now,
  ) {}

  input(text: string): void {
    if (!text.trim()) return this.stop();
    const now = this.now();
    if ((this.sentAt === null || now - this.sentAt >= this.everyMs) && this.send(true)) this.sentAt = now;
  }

  stop(): void {
    if (this.sentAt !== null) this.send(false);
    this.sentAt = null;
  }
}
