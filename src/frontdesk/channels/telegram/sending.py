"""Sending one reply through the Bot API: its text in parts of at most 4,096 characters (split at
a line end, else a space, else anywhere), then each file by the address of our stored copy
(sendPhoto for images Telegram shows inline, sendDocument for the rest). The receipt's source id
is the FIRST message sent ("<chat id>:<message id>"), the one a customer's quote of the reply's
start points to.

Telegram has no idempotency key. A part after the first that meets a short 429 or 5xx is tried
again here, within the attempt; the delivery job's retry sends only the parts not yet delivered,
and a part whose call was cut off by a killed worker is not sent again on its own
(channels/send_progress.py).
"""

from __future__ import annotations

import asyncio
from typing import Any

from frontdesk.channels.base import ChannelError, Outbound, ProviderReceipt
from frontdesk.channels.send_progress import SendProgress
from frontdesk.channels.telegram.client import BotApi
from frontdesk.domain.enums import FailureReason
from frontdesk.store.channel_state import InboxState

__all__ = ["TEXT_LIMIT", "send_outbound", "split_text"]

TEXT_LIMIT = 4096  # characters of one message, as Telegram counts them (UTF-16 code units)
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
PHOTO_BY_URL_BYTES = 5 * 1_048_576  # sendPhoto by URL takes at most 5 MB; bigger goes as a document
FILE_BY_URL_BYTES = 20 * 1_048_576  # what Telegram fetches by URL for any other file
CAPTION_LIMIT = 1024
PART_TRIES = 3
PART_WAIT_MAX = 10.0  # seconds a later part may wait within the attempt


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _fit(text: str, limit: int) -> int:
    """The number of characters of `text` whose UTF-16 length is at most `limit`."""
    total = 0
    for index, char in enumerate(text):
        total += 2 if ord(char) > 0xFFFF else 1
        if total > limit:
            return index
    return len(text)


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Parts of at most `limit` units, cut at the last line end, else the last space (the one
    separator dropped), else anywhere (never inside a character)."""
    parts: list[str] = []
    rest = text
    while _units(rest) > limit:
        end = _fit(rest, limit)
        cut = rest.rfind("\n", 0, end)
        if cut <= 0:
            cut = rest.rfind(" ", 0, end)
        if cut <= 0:
            parts.append(rest[:end])
            rest = rest[end:]
            continue
        parts.append(rest[:cut])
        rest = rest[cut + 1 :]
    parts.append(rest)
    return parts


def _message_id(result: Any, chat_id: str) -> str | None:
    message_id = result.get("message_id") if isinstance(result, dict) else None
    return f"{chat_id}:{message_id}" if isinstance(message_id, int) else None


async def _later_part(api: BotApi, method: str, payload: dict[str, Any]) -> Any:
    """A part after the first: a short wait and another try on a temporary refusal, so the
    parts already sent are not sent again by the job's retry."""
    for attempt in range(PART_TRIES):
        try:
            return await api.call(method, payload)
        except ChannelError as exc:
            wait = exc.retry_after if exc.retry_after is not None else 1.0
            if not exc.retryable or attempt == PART_TRIES - 1 or wait > PART_WAIT_MAX:
                raise
            await asyncio.sleep(wait)
    raise AssertionError("unreachable")


def _file_call(chat_id: str, file: dict[str, Any], caption: str | None) -> tuple[str, dict[str, Any]]:
    url = file.get("url")
    if not isinstance(url, str) or not url:
        raise ChannelError(
            FailureReason.ATTACHMENT_MISSING, "the file has no address Telegram can fetch", retryable=False
        )
    size = file.get("size")
    if isinstance(size, int) and size > FILE_BY_URL_BYTES:
        raise ChannelError(
            FailureReason.TOO_LARGE,
            f"{file.get('file_name') or 'a file'} is {size} bytes; Telegram fetches at most "
            f"{FILE_BY_URL_BYTES} bytes of a file sent by its address",
            retryable=False,
        )
    photo = file.get("content_type") in PHOTO_TYPES and (
        not isinstance(size, int) or size <= PHOTO_BY_URL_BYTES
    )
    method, field = ("sendPhoto", "photo") if photo else ("sendDocument", "document")
    payload: dict[str, Any] = {"chat_id": chat_id, field: url}
    if caption:
        payload["caption"] = caption
    return method, payload


async def send_outbound(api: BotApi, outbound: Outbound, state: InboxState | None) -> ProviderReceipt:
    chat_id = outbound.recipient_source_id
    files = list(outbound.attachments)
    text = outbound.text
    # One file with a short text: the text is its caption, one message instead of two.
    caption = text if len(files) == 1 and text.strip() and _units(text) <= CAPTION_LIMIT else None
    calls: list[tuple[str, dict[str, Any]]] = []
    if text.strip() and caption is None:
        calls += [("sendMessage", {"chat_id": chat_id, "text": part}) for part in split_text(text)]
    calls += [_file_call(chat_id, f, caption if i == 0 else None) for i, f in enumerate(files)]
    if not calls:
        raise ChannelError(
            FailureReason.INVALID_MESSAGE, "the reply has no text and no files", retryable=False
        )
    progress = SendProgress(state, outbound.message_id, "Telegram")
    done = await progress.start()
    for index, (method, payload) in enumerate(calls):
        if index < done:
            continue
        await progress.sending(index)
        try:
            result = await (api.call(method, payload) if index == 0 else _later_part(api, method, payload))
        except ChannelError:
            await progress.failed(index)
            raise
        await progress.sent(index, last=index + 1 == len(calls), source_id=_message_id(result, chat_id))
    return ProviderReceipt(source_id=progress.receipt)
