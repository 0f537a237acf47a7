// The visitor's outgoing messages: over the socket when it is up, else over HTTP with the same
// client id (the server stores a client id once, so sending again after a lost answer is safe).
import { ApiError, type Api } from "./api";
import type { Link } from "./link";
import type { ChatMessage, MessageList } from "./messages";
import type { WidgetMessage } from "./types";

export interface OutboxDeps {
  api: Api;
  link: Link;
  list: () => MessageList; // replaced when the visitor changes (setUser)
  token: () => string | null;
  changed(): void;
  conversation(id: number): void;
  refused(clientId: string, error: ApiError): void;
}

export function newClientId(): string {
  const random =
    typeof crypto !== "undefined" && "randomUUID" in crypto ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
  return `c-${random}`;
}

function asApiError(error: unknown): ApiError {
  return error instanceof ApiError ? error : new ApiError(0, "network", String(error));
}

export class Outbox {
  private readonly viaHttp = new Set<string>(); // client ids with an HTTP request under way

  constructor(private readonly d: OutboxDeps) {}

  write(text: string): void {
    const message = this.d.list().addPending(newClientId(), text);
    this.d.changed();
    this.push(message);
  }

  /** Sends a message again after it failed (the visitor tapped it). */
  retry(clientId: string): void {
    const message = this.d.list().byClientId(clientId);
    if (!message || message.status !== "failed") return;
    message.status = "sending";
    this.d.changed();
    this.push(message);
  }

  /** Everything still unsent goes over HTTP: the socket died, or a session has just started. */
  flushHttp(): void {
    for (const m of this.d.list().unsent()) this.http(m);
  }

  /** Everything still unsent goes over the socket that has just become ready. */
  flushSocket(): void {
    for (const m of this.d.list().unsent()) {
      if (m.client_id) this.d.link.send({ type: "message", client_id: m.client_id, text: m.text });
    }
  }

  /** Uploads one file as a message; the caller has checked its size and says what an error means. */
  async upload(file: File, failed: (error: ApiError) => void): Promise<WidgetMessage | null> {
    const token = this.d.token();
    if (!token) return null;
    const list = this.d.list();
    const clientId = newClientId();
    list.addPending(clientId, "", file.name);
    this.d.changed();
    try {
      const answer = await this.d.api.upload(token, file, clientId);
      list.remove(clientId);
      return list.merge(answer.message) ? answer.message : null;
    } catch (error) {
      list.remove(clientId);
      failed(asApiError(error));
      return null;
    } finally {
      this.d.changed();
    }
  }

  private push(message: ChatMessage): void {
    // Without a token yet (the session is still starting) the message waits: flushHttp sends it.
    if (!this.d.token() || !message.client_id) return;
    if (!this.d.link.send({ type: "message", client_id: message.client_id, text: message.text })) this.http(message);
  }

  private http(message: ChatMessage): void {
    const token = this.d.token();
    const clientId = message.client_id;
    if (!token || !clientId || this.viaHttp.has(clientId)) return;
    this.viaHttp.add(clientId);
    const list = this.d.list();
    this.d.api
      .send(token, message.text, clientId)
      .finally(() => this.viaHttp.delete(clientId))
      .then(
        (answer) => {
          this.d.conversation(answer.conversation_id);
          list.confirm(clientId, answer.message_id);
          this.d.changed();
        },
        (error: unknown) => this.d.refused(clientId, asApiError(error)),
      );
  }
}
