// The email template's fields (T5's API: …/inboxes/{id}/email-template): which ones the editor
// sends, and how a form is turned into the PUT/preview body (an empty URL means "none": null).

import type { paths } from "@/api/schema";

type TemplatePath = paths["/api/v1/workspaces/{workspace_id}/inboxes/{inbox_id}/email-template"];
type PreviewPath = paths["/api/v1/workspaces/{workspace_id}/inboxes/{inbox_id}/email-template/preview"];

export const TEXT_FIELDS = ["subject", "heading", "body_text", "footnote"] as const;
export const URL_FIELDS = ["website_url", "app_store_url", "google_play_url", "terms_url", "privacy_url"] as const;
export type TextField = (typeof TEXT_FIELDS)[number];
export type UrlField = (typeof URL_FIELDS)[number];

/** Text limits the server enforces; the form shows them so a long text is caught while typing. */
export const MAX_LENGTH: Record<TextField, number> = { subject: 200, heading: 200, body_text: 2000, footnote: 1000 };

/** What the server answers (GET, PUT, header image upload): the generated OpenAPI type. */
export type EmailTemplate = TemplatePath["get"]["responses"][200]["content"]["application/json"];

/** What the editor edits: URLs as strings (empty = not set). */
export type TemplateForm = Record<TextField | UrlField, string> & { show_header_image: boolean };

/** The editable fields only: never header_image_url or updated_at, which the server owns. */
export type TemplateBody = Omit<EmailTemplate, "header_image_url" | "updated_at">;

export type TemplatePreview = PreviewPath["post"]["responses"][200]["content"]["application/json"];

export function formFrom(saved: EmailTemplate): TemplateForm {
  const form = { show_header_image: saved.show_header_image } as TemplateForm;
  for (const k of TEXT_FIELDS) form[k] = saved[k] ?? "";
  for (const k of URL_FIELDS) form[k] = saved[k] ?? "";
  return form;
}

export function bodyFrom(form: TemplateForm): TemplateBody {
  const body = { show_header_image: form.show_header_image } as TemplateBody;
  for (const k of TEXT_FIELDS) body[k] = form[k];
  for (const k of URL_FIELDS) body[k] = form[k].trim() === "" ? null : form[k].trim();
  return body;
}
