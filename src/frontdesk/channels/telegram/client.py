"""The Bot API over httpx: one POST per method with a JSON body, every answer read as Telegram's
{"ok", "result"} or {"ok": false, "error_code", "description", "parameters"} and every failure
turned into a ChannelError with Telegram's own words. The bot token sits in every Bot API address,
so no address is ever put in an error, a log line or a failure detail."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from frontdesk.channels.base import (
    ChannelError,
    FetchedMedia,
    call_failures,
    download_failures,
    retry_after_seconds,
    save_response,
)
from frontdesk.domain.enums import FailureReason

__all__ = ["BotApi", "refusal"]

DOWNLOAD_SECONDS = 300.0  # a whole file download, however slowly it trickles


class BotApi:
    def __init__(self, http: httpx.AsyncClient, token: str, base: str, timeout: float) -> None:
        self.http = http
        self.token = token
        self.base = base.rstrip("/")
        self.timeout = timeout

    def _hide(self, text: str) -> str:
        return text.replace(self.token, "<token>") if self.token else text

    async def call(self, method: str, payload: dict[str, Any]) -> Any:
        """The method's `result`; ChannelError when Telegram refuses or cannot be reached."""
        if not self.token:
            raise ChannelError(FailureReason.MISCONFIGURED, "the inbox has no bot token", retryable=False)
        url = f"{self.base}/bot{self.token}/{method}"
        with call_failures(
            f"Telegram did not answer {method} in time", f"could not reach Telegram ({method})", self._hide
        ):
            response = await self.http.post(url, json=payload, timeout=self.timeout)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if isinstance(answer, dict) and answer.get("ok") is True and response.status_code == 200:
            return answer.get("result")
        raise refusal(method, response, answer if isinstance(answer, dict) else {}, self._hide)

    async def download(self, file_path: str, destination: Path, max_bytes: int) -> FetchedMedia:
        """GET <base>/file/bot<token>/<file_path>, streamed and size-capped."""
        url = f"{self.base}/file/bot{self.token}/{file_path.lstrip('/')}"
        with download_failures(hide=self._hide):
            async with asyncio.timeout(DOWNLOAD_SECONDS):
                async with self.http.stream("GET", url, timeout=self.timeout) as response:
                    return await _save(response, destination, max_bytes)


async def _save(response: httpx.Response, destination: Path, max_bytes: int) -> FetchedMedia:
    code = response.status_code
    if code in (400, 404, 410):
        raise ChannelError(
            FailureReason.ATTACHMENT_MISSING,
            f"Telegram's file address answered HTTP {code}: expired or removed",
            retryable=False,
        )
    if code != 200:
        raise ChannelError(
            FailureReason.PROVIDER_UNAVAILABLE
            if code >= 500 or code == 429
            else FailureReason.PROVIDER_REJECTED,
            f"Telegram's file address answered HTTP {code}",
            retryable=code >= 500 or code == 429,
        )
    await save_response(response, destination, max_bytes)
    kind = response.headers.get("content-type", "").split(";")[0].strip()
    # The file server mostly says octet-stream: the message's own type is the better guess then.
    return FetchedMedia(content_type=None if kind in ("", "application/octet-stream") else kind)


def _reason(code: int, description: str) -> tuple[FailureReason, bool]:
    """What kind of failure Telegram's answer is, and whether trying again can help."""
    lowered = description.lower()
    if code == 429:
        return FailureReason.RATE_LIMITED, True
    if code >= 500:
        return FailureReason.PROVIDER_UNAVAILABLE, True
    if code == 401 or (code == 404 and "not found" in lowered and "chat" not in lowered):
        return FailureReason.AUTH_FAILED, False  # a wrong or revoked bot token
    if code == 403 or "chat not found" in lowered or "user not found" in lowered:
        # "bot was blocked by the user", "user is deactivated", a chat that never /started the bot
        return FailureReason.RECIPIENT_REFUSED, False
    if code == 413 or "too big" in lowered or "too large" in lowered:
        return FailureReason.TOO_LARGE, False
    return FailureReason.PROVIDER_REJECTED, False


def refusal(method: str, response: httpx.Response, answer: dict[str, Any], hide: Any = str) -> ChannelError:
    given = answer.get("error_code")
    code = given if isinstance(given, int) and not isinstance(given, bool) else response.status_code
    description = answer.get("description")
    if not isinstance(description, str) or not description:
        shown = response.text[:200] if response.status_code == 200 else ""
        description = f"HTTP {response.status_code}, not a Bot API answer {shown}".rstrip()
    reason, retryable = _reason(code, description)
    wait: float | None = None
    parameters = answer.get("parameters")
    if retryable:
        after = parameters.get("retry_after") if isinstance(parameters, dict) else None
        if isinstance(after, int | float) and not isinstance(after, bool) and after >= 0:
            wait = float(after)
        else:
            wait = retry_after_seconds(response.headers.get("retry-after"))
    detail = hide(f"Telegram {code} ({method}): {description[:500]}")
    return ChannelError(reason, detail, retryable=retryable, retry_after=wait)
