// Email messages (content_type "email"): reading data.email (actions/email/intake.py email_data)
// and building the document shown in the sandboxed iframe of "Show formatted". The server has
// already sanitised the HTML with nh3; what happens here is a second, independent line of
// defence plus the policy that keeps remote content out until the agent asks for it.
import type { Message } from "@/api/types";

export interface MailAddress {
  name: string;
  address: string;
}

export type MailKind = "normal" | "auto_reply" | "bounce" | "list";

export interface EmailData {
  subject: string;
  from: MailAddress | null;
  to: MailAddress[];
  cc: MailAddress[];
  html: string | null;
  quoted: string;
  kind: MailKind;
  /** Some of the mail could not be read (broken or cut-off MIME): its text may be incomplete. */
  partlyRead: boolean;
}

const KINDS = new Set<MailKind>(["normal", "auto_reply", "bounce", "list"]);

function addressOf(value: unknown): MailAddress | null {
  if (!value || typeof value !== "object") return null;
  const v = value as { name?: unknown; address?: unknown };
  if (typeof v.address !== "string" || !v.address) return null;
  return { name: typeof v.name === "string" ? v.name : "", address: v.address };
}

function addressesOf(value: unknown): MailAddress[] {
  return Array.isArray(value) ? value.map(addressOf).filter((a): a is MailAddress => a !== null) : [];
}

/** The mail's details from an email message's data, or null for any other message. Fields the
 * server left out or wrote in an unexpected shape are read as empty rather than failing. */
export function emailOf(message: Pick<Message, "content_type" | "data">): EmailData | null {
  if (message.content_type !== "email") return null;
  const raw = (message.data as { email?: unknown } | null)?.email;
  if (!raw || typeof raw !== "object") return null;
  const e = raw as Record<string, unknown>;
  const kind = typeof e.kind === "string" && KINDS.has(e.kind as MailKind) ? (e.kind as MailKind) : "normal";
  return {
    subject: typeof e.subject === "string" ? e.subject : "",
    from: addressOf(e.from),
    to: addressesOf(e.to),
    cc: addressesOf(e.cc),
    html: typeof e.html === "string" && e.html.trim() ? e.html : null,
    quoted: typeof e.quoted === "string" ? e.quoted : "",
    kind,
    partlyRead: e.partly_read === true,
  };
}

// Elements that have no business in a mail body (nh3 drops them already); removed again here so
// that a server-side mistake still cannot add a script, a frame, a form or a <base>/<meta>.
const DROP = "script,style,link,meta,base,iframe,frame,frameset,object,embed,applet,form,template,noscript,svg,math";

/** Whether the mail has remote images held back in data-src (the server moved them there). */
export function hasRemoteImages(html: string): boolean {
  const doc = new DOMParser().parseFromString(html, "text/html");
  return [...doc.querySelectorAll("img[data-src]")].some((img) => /^https:\/\//i.test(img.getAttribute("data-src") ?? ""));
}

/** The Content-Security-Policy of the mail's document: nothing but inline styles and images
 * from our own /files/ (inline cid: images) and data:, plus https: once remote images are on. */
export function emailCsp(origin: string, remoteImages: boolean): string {
  const images = ["data:", `${origin}/files/`, ...(remoteImages ? ["https:"] : [])].join(" ");
  return `default-src 'none'; img-src ${images}; style-src 'unsafe-inline'`;
}

const FRAME_CSS =
  "html,body{margin:0;padding:0;background:#fff;color:#1f2328}" +
  "body{padding:8px 10px;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Vazirmatn,Tahoma,sans-serif;overflow-wrap:anywhere}" +
  "img{max-width:100%;height:auto}table{max-width:100%}pre{white-space:pre-wrap}";

/** The srcdoc of the formatted view. Remote images stay in data-src unless `remoteImages`; any
 * image source that is not ours (/files/), an inline raster data: image or, when allowed, https:
 * is taken away. Links open nowhere from the frame (sandbox without popups): the text view has them. */
export function emailSrcdoc(html: string, origin: string, remoteImages: boolean): string {
  const doc = new DOMParser().parseFromString(html, "text/html");
  for (const el of [...doc.querySelectorAll(DROP)]) el.remove();
  for (const el of [...doc.body.querySelectorAll("*")]) {
    for (const attr of [...el.attributes]) {
      if (/^on/i.test(attr.name) || attr.name === "srcset" || attr.name === "background") el.removeAttribute(attr.name);
    }
  }
  for (const img of [...doc.body.querySelectorAll("img")]) {
    const src = img.getAttribute("src");
    if (src !== null && !src.startsWith("/files/") && !/^data:image\/(png|jpeg|gif|webp)[;,]/i.test(src)) {
      img.removeAttribute("src");
      if (/^https:\/\//i.test(src)) img.setAttribute("data-src", src);
    }
    const deferred = img.getAttribute("data-src");
    if (remoteImages && deferred && /^https:\/\//i.test(deferred)) {
      img.setAttribute("src", deferred);
      img.removeAttribute("data-src");
    }
  }
  const csp = emailCsp(origin, remoteImages).replace(/"/g, "&quot;");
  return (
    '<!doctype html><html><head><meta charset="utf-8">' +
    `<meta http-equiv="Content-Security-Policy" content="${csp}">` +
    '<meta name="referrer" content="no-referrer"><base target="_blank">' +
    `<style>${FRAME_CSS}</style></head><body dir="auto">${doc.body.innerHTML}</body></html>`
  );
}
