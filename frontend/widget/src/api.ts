// The widget's HTTP calls (docs/channels/web-widget-protocol.md). Every call has a timeout; an
// error answer becomes an ApiError carrying the server's code, message and Retry-After.
import type { PageInfo, SessionAnswer, WidgetConfig, WidgetMessage } from "./types";

const TIMEOUT_MS = 15_000;
const UPLOAD_TIMEOUT_MS = 120_000;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field: string | null = null,
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }
}

export interface SessionBody {
  visitor_token?: string;
  name?: string;
  email?: string;
  phone?: string;
  identity?: { user_id: string; hash: string };
  page?: PageInfo;
  language?: string;
}

export interface OfflineBody {
  visitor_token?: string;
  name: string;
  email: string;
  phone?: string;
  text: string;
}

interface Call {
  method?: "GET" | "POST";
  token?: string | null;
  json?: unknown;
  form?: FormData;
  timeout?: number;
}

export class Api {
  private readonly base: string;

  constructor(origin: string, inbox: string) {
    this.base = `${origin}/widget/v1/${encodeURIComponent(inbox)}`;
  }

  socketUrl(): string {
    return `${this.base.replace(/^http/, "ws")}/socket`;
  }

  config(): Promise<WidgetConfig> {
    return this.call("/config");
  }

  session(body: SessionBody): Promise<SessionAnswer> {
    return this.call("/sessions", { method: "POST", json: body });
  }

  send(token: string, text: string, clientId: string): Promise<{ message_id: number; conversation_id: number }> {
    return this.call("/messages", { method: "POST", token, json: { text, client_id: clientId } });
  }

  list(token: string, after: number): Promise<{ conversation_id: number | null; messages: WidgetMessage[] }> {
    return this.call(`/messages?after=${after}`, { token });
  }

  upload(token: string, file: File, clientId: string): Promise<{ message: WidgetMessage }> {
    const form = new FormData();
    form.append("file", file, file.name);
    form.append("client_id", clientId);
    return this.call("/attachments", { method: "POST", token, form, timeout: UPLOAD_TIMEOUT_MS });
  }

  offline(body: OfflineBody): Promise<SessionAnswer & { message_id: number }> {
    return this.call("/offline", { method: "POST", json: body });
  }

  csat(token: string, conversationId: number, rating: number, comment: string): Promise<unknown> {
    const body: Record<string, unknown> = { conversation_id: conversationId, rating };
    if (comment) body.comment = comment;
    return this.call("/csat", { method: "POST", token, json: body });
  }

  private async call<T>(path: string, options: Call = {}): Promise<T> {
    const headers: Record<string, string> = {};
    if (options.token) headers.Authorization = `Visitor ${options.token}`;
    let body: BodyInit | undefined;
    if (options.form) body = options.form;
    else if (options.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.json);
    }
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), options.timeout ?? TIMEOUT_MS);
    let response: Response;
    try {
      response = await fetch(this.base + path, {
        method: options.method ?? "GET",
        headers,
        body,
        signal: abort.signal,
        credentials: "omit",
        mode: "cors",
      });
    } catch (error) {
      throw new ApiError(0, "network", error instanceof Error ? error.message : String(error));
    } finally {
      clearTimeout(timer);
    }
    const data: unknown = await response.json().catch(() => null);
    if (!response.ok) throw errorOf(response, data);
    return data as T;
  }
}

function errorOf(response: Response, data: unknown): ApiError {
  const error = (
    data as { error?: { code?: string; message?: string; field?: string | null; retry_after?: number } } | null
  )?.error;
  // Retry-After is readable cross-origin only when the server exposes it; the body may carry it too.
  const retry = Number(response.headers.get("Retry-After") ?? error?.retry_after);
  return new ApiError(
    response.status,
    error?.code ?? `http_${response.status}`,
    error?.message ?? response.statusText,
    error?.field ?? null,
    Number.isFinite(retry) && retry > 0 ? retry : null,
  );
}
