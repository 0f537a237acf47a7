// API errors shown next to the field they name.
import { ApiError } from "@/api/client";

/** The errors object for a form: `{field: message}`, with "_" for an error that names no field. */
export function errorsFrom(e: unknown, networkMessage: string): Record<string, string> {
  if (e instanceof ApiError) {
    if (e.status === 0) return { _: networkMessage };
    return { [e.field ?? "_"]: e.message };
  }
  return { _: e instanceof Error ? e.message : String(e) };
}
