// The rating prompt: asked when the server says a conversation was resolved and not yet rated,
// never twice for one conversation in this browser (remembered in storage), and a 409
// "already_rated" (rated from another tab) counts as done.
import { ApiError, type Api } from "./api";
import type { KeyValue } from "./storage";

export class CsatPrompt {
  /** the conversation waiting for a rating, if any */
  pending: number | null = null;

  constructor(
    private readonly api: Api,
    private readonly store: KeyValue,
  ) {}

  /** A `conversation` frame. */
  update(conversationId: number, status: string, csat: boolean): void {
    if (csat && status === "resolved" && !this.store.get(`csat:${conversationId}`)) this.pending = conversationId;
    else if (status !== "resolved") this.pending = null;
  }

  /** Sends the rating; throws the server's error unless it was already rated. */
  async submit(token: string, rating: number, comment: string): Promise<void> {
    const id = this.pending;
    if (id === null) return;
    try {
      await this.api.csat(token, id, rating, comment);
    } catch (error) {
      if (!(error instanceof ApiError && error.code === "already_rated")) throw error;
    }
    this.store.set(`csat:${id}`, "1");
    this.pending = null;
  }
}
