"""What LINE's answers mean: its error bodies as ChannelError, and the message objects a reply
is sent as (docs/channels/line.md)."""

from __future__ import annotations

from typing import Any

import httpx

from frontdesk.channels.base import ChannelError, Outbound, retry_after_seconds
from frontdesk.domain.enums import FailureReason

__all__ = ["MAX_MESSAGES", "MAX_TEXT", "messages_of", "refusal", "utf16_length"]

MAX_TEXT = 5000  # UTF-16 code units per text message
MAX_MESSAGES = 5  # message objects per reply or push call
# LINE shows these inline; any other file is sent as a link to our stored copy.
_IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})
INVALID_REPLY_TOKEN = "invalid reply token"
MONTHLY_LIMIT = "monthly limit"


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def messages_of(outbound: Outbound) -> list[dict[str, Any]]:
    """The reply as LINE message objects: its text, each image as an image message (LINE
    fetches our HTTPS address), every other file as a link; at most MAX_MESSAGES."""
    if utf16_length(outbound.text) > MAX_TEXT:
        raise ChannelError(
            FailureReason.INVALID_MESSAGE,
            f"LINE takes at most {MAX_TEXT} characters in one text message",
            retryable=False,
        )
    out: list[dict[str, Any]] = []
    links: list[str] = []
    for file in outbound.attachments:
        url = str(file.get("url", ""))
        if not url.startswith("https://"):
            raise ChannelError(
                FailureReason.MISCONFIGURED,
                "LINE fetches files only from HTTPS addresses: set FRONTDESK_PUBLIC_URL to the "
                "installation's https:// address",
                retryable=False,
            )
        if file.get("content_type") in _IMAGE_TYPES:
            out.append({"type": "image", "originalContentUrl": url, "previewImageUrl": url})
        else:
            links.append(f"{file.get('file_name') or 'file'}: {url}")
    text = "\n".join([t for t in [outbound.text.strip() and outbound.text, *links] if t])
    if text:
        out.insert(0, {"type": "text", "text": text[:MAX_TEXT]})
    if not out:
        raise ChannelError(FailureReason.INVALID_MESSAGE, "the reply has nothing to send", retryable=False)
    if len(out) > MAX_MESSAGES:
        raise ChannelError(
            FailureReason.INVALID_MESSAGE,
            f"LINE takes at most {MAX_MESSAGES} messages in one reply (text and images together)",
            retryable=False,
        )
    return out


def _words(response: httpx.Response) -> str:
    """LINE's {"message", "details": [{"message", "property"}]} in one line."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if not isinstance(body, dict):
        return response.text[:300]
    words = str(body.get("message") or "")
    details = body.get("details")
    if isinstance(details, list):
        parts = [
            f"{d.get('property')}: {d.get('message')}" if d.get("property") else str(d.get("message"))
            for d in details[:3]
            if isinstance(d, dict)
        ]
        if parts:
            words += " (" + "; ".join(parts) + ")"
    return words[:500] or response.text[:300]


def refusal(response: httpx.Response, what: str) -> ChannelError:
    """A non-2xx answer of LINE as the failure the agent sees: code, LINE's words, retryable."""
    code = response.status_code
    words = _words(response)
    detail = f"LINE answered HTTP {code} to {what}: {words}"
    if code == 429 and MONTHLY_LIMIT in words.lower():
        return ChannelError(FailureReason.QUOTA_EXHAUSTED, detail, retryable=False)
    if code in (429,) or code >= 500:
        reason = FailureReason.RATE_LIMITED if code == 429 else FailureReason.PROVIDER_UNAVAILABLE
        wait = retry_after_seconds(response.headers.get("retry-after"))
        return ChannelError(reason, detail, retryable=True, retry_after=wait)
    named = {401: FailureReason.AUTH_FAILED, 403: FailureReason.AUTH_FAILED, 413: FailureReason.TOO_LARGE}
    return ChannelError(named.get(code, FailureReason.PROVIDER_REJECTED), detail, retryable=False)


def is_invalid_reply_token(response: httpx.Response) -> bool:
    return response.status_code == 400 and INVALID_REPLY_TOKEN in _words(response).lower()
