// A refused template field in the administrator's words. The server names the field (`field`) in
// English with its raw key ("terms_url must be an http:// or https:// address"); the editor knows
// the same rules (fields.ts), so it says which one was broken from the field and what was typed,
// in the agent's language and with the field's label, and never shows the key.
import { ApiError } from "@/api/client";
import { MAX_LENGTH, type TemplateForm, TEXT_FIELDS, type TextField, URL_FIELDS, type UrlField } from "./fields";

type T = (key: string, params?: Record<string, unknown>) => string;

const SINGLE_LINE: ReadonlySet<TextField> = new Set(["subject", "heading"]);

function isText(field: string): field is TextField {
  return (TEXT_FIELDS as readonly string[]).includes(field);
}

function isUrl(field: string): field is UrlField {
  return (URL_FIELDS as readonly string[]).includes(field);
}

/** The message for a field the server refused; null for a field the form does not have. */
export function fieldMessage(field: string, form: TemplateForm, t: T): string | null {
  if (isUrl(field)) return t("template.error.url", { field: t(`template.field.${field}`) });
  if (!isText(field)) return null;
  const label = t(`template.field.${field}`);
  const value = form[field].replace(/\r\n/g, "\n").trim();
  if (value.length > MAX_LENGTH[field]) return t("template.error.tooLong", { field: label, n: MAX_LENGTH[field] });
  if (SINGLE_LINE.has(field) && value.includes("\n")) return t("template.error.singleLine", { field: label });
  return t("template.error.invalid", { field: label });
}

/** A header image the server refused: too large (413), or not an image it takes. */
export function imageMessage(e: unknown, t: T): string {
  if (e instanceof ApiError && e.status === 413) return t("template.error.imageSize");
  return t("template.error.imageType");
}

/** Errors by field for a failed save or preview: a field the form has gets its own translated
 * line; anything else (the network, a rule this editor does not know) stays under "_". */
export function templateErrors(e: unknown, form: TemplateForm, t: T): Record<string, string> {
  if (e instanceof ApiError && e.status === 0) return { _: t("common.networkError") };
  if (e instanceof ApiError && e.field) {
    const known = fieldMessage(e.field, form, t);
    if (known) return { [e.field]: known };
  }
  return { _: e instanceof Error ? e.message : String(e) };
}
