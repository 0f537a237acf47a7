// The website channel's install snippet and the identity-verification examples shown to the
// administrator (docs/channels/web-widget-protocol.md "The snippet", web.md "Visitor sessions").

function attr(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** `<script async src="{origin}/widget.js" data-inbox="{uid}"></script>` */
export function widgetSnippet(origin: string, uid: string): string {
  return `<script async src="${attr(origin.replace(/\/+$/, ""))}/widget.js" data-inbox="${attr(uid)}"></script>`;
}

/** The snippet for a page where the customer is logged in: the site's server fills in both values. */
export function identitySnippet(origin: string, uid: string): string {
  return `<script async src="${attr(origin.replace(/\/+$/, ""))}/widget.js" data-inbox="${attr(uid)}"\n        data-user-id="USER_ID" data-user-hash="USER_HASH"></script>`;
}

/** How the site's server computes data-user-hash: hex HMAC-SHA256 of the user id with the secret. */
export const HASH_EXAMPLES: readonly { language: string; code: string }[] = [
  {
    language: "Python",
    code: 'import hashlib, hmac\nuser_hash = hmac.new(IDENTITY_SECRET.encode(), str(user.id).encode(), hashlib.sha256).hexdigest()',
  },
  {
    language: "Node.js",
    code: 'const { createHmac } = require("node:crypto");\nconst userHash = createHmac("sha256", IDENTITY_SECRET).update(String(user.id)).digest("hex");',
  },
  { language: "PHP", code: "$userHash = hash_hmac('sha256', (string) $user->id, IDENTITY_SECRET);" },
];

/** hex HMAC-SHA256(secret, userId) with the browser's Web Crypto; null where it is unavailable
 * (Web Crypto needs a secure context: https or localhost). */
export async function identityHash(secret: string, userId: string): Promise<string | null> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return null;
  const enc = new TextEncoder();
  const key = await subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const signature = new Uint8Array(await subtle.sign("HMAC", key, enc.encode(userId)));
  return Array.from(signature, (b) => b.toString(16).padStart(2, "0")).join("");
}
