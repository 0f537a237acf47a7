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

/** One line for an error shown away from any field: the unnamed one, else the first named one. */
export function errorLine(e: unknown, networkMessage: string): string {
  const found = errorsFrom(e, networkMessage);
  return found._ ?? Object.values(found)[0] ?? networkMessage;
}
