"""WeChat's server API: the access token (one per inbox, shared by every process through the
inbox's channel state), and calls that carry it, with WeChat's errcode mapped to our failure
reasons.

The token comes from /cgi-bin/stable_token, which hands out the current token while it is valid
instead of replacing it (the older /cgi-bin/token invalidates the token other processes hold).
It is refreshed five minutes before it expires, and at once (force_refresh) when WeChat says it
is invalid or expired (40001, 40014, 42001), after which the call is made again, once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson

from frontdesk.channels.base import ChannelError, call_failures, retry_after_seconds
from frontdesk.domain.enums import FailureReason
from frontdesk.store.channel_state import InboxState
from frontdesk.store.types import utcnow

TOKEN_KEY = "access_token"
TOKEN_MARGIN = timedelta(minutes=5)
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
IP_HINT = (
    " (add this installation's outgoing IP address to the account's IP allow-list: WeChat admin, "
    "Settings and Development, Basic Configuration)"
)

# errcode → (reason, retryable). What is not here is a lasting refusal (PROVIDER_REJECTED).
_ERRORS: dict[int, tuple[FailureReason, bool]] = {
    -1: (FailureReason.PROVIDER_UNAVAILABLE, True),  # system busy
    45009: (FailureReason.RATE_LIMITED, True),  # the API's daily quota
    45011: (FailureReason.RATE_LIMITED, True),  # calls too frequent
    45015: (FailureReason.WINDOW_CLOSED, False),  # the 48 h window is over, or the user unfollowed
    45047: (FailureReason.REPLY_LIMIT_REACHED, False),  # the window's messages are used up
    40003: (FailureReason.RECIPIENT_REFUSED, False),  # not an OpenID of this account
    43004: (FailureReason.RECIPIENT_REFUSED, False),  # the user does not follow the account
    40007: (FailureReason.ATTACHMENT_MISSING, False),  # media id expired or unknown
    40004: (FailureReason.INVALID_MESSAGE, False),  # media type not allowed
    40005: (FailureReason.INVALID_MESSAGE, False),
    40006: (FailureReason.TOO_LARGE, False),
    45001: (FailureReason.TOO_LARGE, False),
    45002: (FailureReason.INVALID_MESSAGE, False),  # content too long
    40013: (FailureReason.AUTH_FAILED, False),  # invalid AppID
    40125: (FailureReason.AUTH_FAILED, False),  # invalid AppSecret
    40164: (FailureReason.AUTH_FAILED, False),  # calling IP not in the allow-list
    61004: (FailureReason.AUTH_FAILED, False),
    48001: (FailureReason.AUTH_FAILED, False),  # the account lacks this API permission
    40001: (FailureReason.AUTH_FAILED, False),
    40014: (FailureReason.AUTH_FAILED, False),
    42001: (FailureReason.AUTH_FAILED, False),
}
_WAIT = {45009: 3600.0, 45011: 60.0}


def wechat_error(errcode: int, errmsg: str) -> ChannelError:
    reason, retryable = _ERRORS.get(errcode, (FailureReason.PROVIDER_REJECTED, False))
    detail = f"WeChat error {errcode}: {errmsg[:300]}"
    if errcode in (40164, 61004):
        detail += IP_HINT
    if errcode == 48001:
        detail += " (the service account must be verified to use this API)"
    return ChannelError(reason, detail, retryable=retryable, retry_after=_WAIT.get(errcode))


class WechatClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        base: str,
        app_id: str,
        app_secret: str,
        state: InboxState | None,
        timeout: float,
    ) -> None:
        self.http = http
        self.base = base.rstrip("/")
        self.app_id = app_id
        self.app_secret = app_secret
        self.state = state
        self.timeout = timeout
        self._token: str | None = None  # without a state store (an adapter made alone)

    # --- the access token ---

    async def new_token(self, *, force: bool = False) -> tuple[str, datetime | None]:
        """A token from WeChat (force: a new one, the old one stops working)."""
        body = {
            "grant_type": "client_credential",
            "appid": self.app_id,
            "secret": self.app_secret,
            "force_refresh": force,
        }
        data = await self._request("POST", "/cgi-bin/stable_token", json_body=body)
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise ChannelError(
                FailureReason.PROVIDER_REJECTED, "WeChat answered without an access_token", retryable=True
            )
        seconds = data.get("expires_in")
        expires = utcnow() + timedelta(seconds=int(seconds)) if isinstance(seconds, int) else None
        return token, expires

    async def token(self, *, refused: str | None = None) -> str:
        """The inbox's valid token; `refused`: the one WeChat just called invalid."""
        if self.state is None:
            if self._token is None or self._token == refused:
                self._token, _ = await self.new_token(force=refused is not None)
            return self._token

        async def make() -> tuple[str, datetime | None]:
            return await self.new_token(force=refused is not None)

        return await self.state.fresh(TOKEN_KEY, make, margin=TOKEN_MARGIN, unless=refused)

    # --- calls with the token ---

    async def call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, str] | None = None,
        files: Any = None,
    ) -> dict[str, Any]:
        """One API call with the token; a token WeChat refuses is replaced and the call made once
        more. ChannelError for any errcode but 0."""
        token = await self.token()
        try:
            return await self._request(
                method, path, json_body=json_body, params=params, files=files, token=token
            )
        except _TokenRefused:
            token = await self.token(refused=token)
            try:
                return await self._request(
                    method, path, json_body=json_body, params=params, files=files, token=token
                )
            except _TokenRefused as again:
                raise wechat_error(again.errcode, again.errmsg) from None

    def stream(self, path: str, params: Mapping[str, str], token: str) -> Any:
        return self.http.stream(
            "GET", self.base + path, params={**params, "access_token": token}, timeout=self.timeout
        )

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, str] | None = None,
        files: Any = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        query = dict(params or {})
        if token is not None:
            query["access_token"] = token
        # WeChat shows \\u escapes literally: the body is sent as UTF-8 JSON, not ASCII-escaped.
        content = orjson.dumps(json_body) if json_body is not None else None
        headers = {"Content-Type": "application/json"} if content is not None else None
        with call_failures("timed out waiting for WeChat", "could not reach WeChat"):
            response = await self.http.request(
                method,
                self.base + path,
                params=query,
                content=content,
                files=files,
                headers=headers,
                timeout=self.timeout,
            )
        return answer_of(response)


class _TokenRefused(Exception):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(errcode)
        self.errcode = errcode
        self.errmsg = errmsg


def answer_of(response: httpx.Response) -> dict[str, Any]:
    """WeChat's JSON answer; ChannelError for an HTTP failure or an errcode other than 0."""
    code = response.status_code
    if code == 429 or code >= 500:
        raise ChannelError(
            FailureReason.RATE_LIMITED if code == 429 else FailureReason.PROVIDER_UNAVAILABLE,
            f"WeChat answered HTTP {code}: {response.text[:200]}",
            retryable=True,
            retry_after=retry_after_seconds(response.headers.get("retry-after")),
        )
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ChannelError(
            FailureReason.PROVIDER_REJECTED,
            f"WeChat answered HTTP {code} without JSON: {response.text[:200]}",
            retryable=False,
        )
    raise_for_errcode(data)
    if code >= 400:
        raise ChannelError(
            FailureReason.PROVIDER_REJECTED,
            f"WeChat answered HTTP {code}: {response.text[:200]}",
            retryable=False,
        )
    return data


def raise_for_errcode(data: Mapping[str, Any]) -> None:
    errcode = data.get("errcode", 0)
    if not isinstance(errcode, int) or errcode == 0:
        return
    errmsg = str(data.get("errmsg", ""))
    if errcode in TOKEN_ERRORS:
        raise _TokenRefused(errcode, errmsg)
    raise wechat_error(errcode, errmsg)
