// Reconnect delays: 1, 2, 4 … seconds, capped at 30, with a little jitter so that many visitors
// cut off by one server restart do not all come back in the same millisecond.

export const MAX_DELAY_MS = 30_000;

export class Backoff {
  private attempt = 0;

  constructor(private readonly jitter: () => number = () => Math.random() * 250) {}

  /** The wait before the next attempt; each call doubles the next one up to the cap. */
  next(): number {
    const base = Math.min(MAX_DELAY_MS, 1000 * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 16);
    return Math.min(MAX_DELAY_MS, base + this.jitter());
  }

  reset(): void {
    this.attempt = 0;
  }
}
