// One HTTP client for the whole dashboard: the session cookie travels automatically, the CSRF
// token goes in a header on every change, and a server error becomes an ApiError that names the
// field the server named.
import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "./schema";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field: string | null = null,
  ) {
    super(message);
  }
}

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);
let onUnauthorized: (() => void) | null = null;

export function csrfToken(): string {
  const match = document.cookie.match(/(?:^|;\s*)frontdesk_csrf=([^;]+)/);
  return match?.[1] ? decodeURIComponent(match[1]) : "";
}

/** Called by the session store: a 401 anywhere sends the agent back to the sign-in page. */
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

const csrf: Middleware = {
  onRequest({ request }) {
    if (!SAFE.has(request.method)) request.headers.set("X-CSRF-Token", csrfToken());
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: "", credentials: "same-origin" });
api.use(csrf);

interface ErrorBody {
  error?: { code?: string; message?: string; field?: string | null };
  detail?: unknown;
}

/** Unwraps an openapi-fetch result: the data, or an ApiError with the server's words. */
export async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await call;
  } catch {
    throw new ApiError(0, "network", "network");
  }
  const { data, error, response } = result;
  if (response.ok) return data as T;
  if (response.status === 401 && onUnauthorized) onUnauthorized();
  const body = (error ?? {}) as ErrorBody;
  const e = body.error;
  throw new ApiError(response.status, e?.code ?? `http_${response.status}`, e?.message ?? response.statusText, e?.field ?? null);
}

/** For endpoints outside the typed client (multipart uploads). */
export async function send(method: string, url: string, body?: BodyInit | object): Promise<unknown> {
  const headers: Record<string, string> = {};
  if (!SAFE.has(method)) headers["X-CSRF-Token"] = csrfToken();
  let payload: BodyInit | undefined;
  if (body instanceof FormData || body instanceof Blob || typeof body === "string") payload = body;
  else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let response: Response;
  try {
    response = await fetch(url, { method, headers, body: payload, credentials: "same-origin" });
  } catch {
    throw new ApiError(0, "network", "network");
  }
  const text = await response.text();
  const parsed: unknown = text ? JSON.parse(text) : null;
  if (response.ok) return parsed;
  if (response.status === 401 && onUnauthorized) onUnauthorized();
  const e = (parsed as ErrorBody | null)?.error;
  throw new ApiError(response.status, e?.code ?? `http_${response.status}`, e?.message ?? response.statusText, e?.field ?? null);
}
