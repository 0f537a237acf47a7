"""The website live-chat channel (PRODUCT C1, W1): a widget on the customer's site talks to
/widget/v1/<inbox uid>/... (widget.py beside this file) with a signed visitor token.

There is no provider to call: a reply is "sent" as soon as it is stored for the visitor to
fetch, and the webhook address of the other channels takes nothing for this one.
Visitor tokens are explained in docs/decisions/0009-web-channel-visitor-tokens.md.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, StringConstraints, field_validator
from starlette.middleware import Middleware

from frontdesk.channels.base import (
    ChannelAdapter,
    ChannelRouter,
    Outbound,
    ProviderReceipt,
    SocketRoute,
    assign_on_reply_field,
)
from frontdesk.channels.web import wiring
from frontdesk.security import hmac_sha256_hex, same_secret

if TYPE_CHECKING:
    from frontdesk.services import Services

TOKEN_PREFIX = "vt1"
PrechatField = Literal["name", "email", "phone"]


MAX_TEXT = 500
MAX_LANGUAGES = 40
# A language tag as browsers send it (tr, fa, pt-BR, zh-Hant-TW): what the widget matches on.
LanguageTag = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$")]
LanguageTexts = dict[LanguageTag, Annotated[str, StringConstraints(max_length=MAX_TEXT)]]


def _default_prechat_fields() -> list[PrechatField]:
    return ["name", "email"]


def _per_language(what: str) -> Any:
    """A text in other languages beside the single text every inbox has (settings saved before
    these existed hold only that one): see docs/decisions/0031-per-language-widget-texts.md."""
    return Field(
        default_factory=dict,
        max_length=MAX_LANGUAGES,
        description=f"The {what} in other languages, by language code (tr, fa, pt-BR …). The widget "
        f"shows the one of the visitor's language; a visitor whose language is not listed sees the "
        f"{what} above.",
        json_schema_extra={"default": {}, "x-per-language": True},
    )


class WebSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    site_url: HttpUrl | None = Field(default=None, description="The site the widget is embedded in.")
    colour: str = Field(
        default="#1f6feb", pattern=r"^#[0-9a-fA-F]{6}$", description="Widget colour, #rrggbb."
    )
    greeting: str = Field(
        default="Hi! How can we help?", max_length=MAX_TEXT, description="First line the visitor sees."
    )
    greeting_translations: LanguageTexts = _per_language("greeting")
    invitation_text: str = Field(
        default="", max_length=MAX_TEXT, description="Proactive invitation; empty: no invitation."
    )
    invitation_text_translations: LanguageTexts = _per_language("invitation")
    prechat_enabled: bool = Field(default=False, description="Ask for details before the first message.")
    prechat_fields: list[PrechatField] = Field(
        default_factory=_default_prechat_fields,
        max_length=3,
        description="What the pre-chat form asks.",
        # The factory's value is not in the JSON schema; the dashboard's form shows the default.
        json_schema_extra={"default": ["name", "email"]},
    )
    offline_behaviour: Literal["form", "hide"] = Field(
        default="form", description="With no agent online: an offline form, or hide the widget."
    )
    language: Literal["auto", "en", "tr", "fa"] = Field(
        default="auto", description="Widget language; auto follows the visitor's browser."
    )
    assign_on_reply: bool = assign_on_reply_field()

    @field_validator("prechat_fields")
    @classmethod
    def _no_repeats(cls, value: list[PrechatField]) -> list[PrechatField]:
        if len(set(value)) != len(value):
            raise ValueError("each field may be listed once")
        return value


class WebAdapter(ChannelAdapter):
    channel_type = "web"
    takes_webhooks = False  # visitors write through /widget/v1/<inbox uid>/…
    settings_schema = WebSettings
    secret_fields = ("identity_secret",)
    secret_descriptions: ClassVar[Mapping[str, str]] = {
        "identity_secret": "Lets your site vouch for a logged-in customer: pass identity.user_id and "
        "identity.hash = hex HMAC-SHA256 of the user id with this secret, computed on your server. "
        "Frontdesk generates it when the inbox is added; rotate it to get a new one."
    }

    @classmethod
    def routers(cls) -> Sequence[ChannelRouter]:
        return wiring.routers()

    @classmethod
    def socket_routes(cls) -> Sequence[SocketRoute]:
        return wiring.socket_routes()

    @classmethod
    def middleware(cls) -> Sequence[Middleware]:
        return wiring.middleware()

    @classmethod
    def background(
        cls, services: Services, *, with_worker: bool
    ) -> Sequence[contextlib.AbstractAsyncContextManager[object]]:
        return wiring.background(services)

    @classmethod
    def generated_secrets(cls) -> dict[str, str]:
        return {"identity_secret": secrets.token_urlsafe(32)}

    async def send(self, outbound: Outbound) -> ProviderReceipt:
        # The reply is already stored where the visitor's widget fetches it; no provider to call.
        # "delivered" waits for the widget to acknowledge it (not built yet).
        return ProviderReceipt(source_id=None)


def identity_hash_matches(identity_secret: str, user_id: str, given: str) -> bool:
    return same_secret(hmac_sha256_hex(identity_secret, user_id.encode()), given.strip().lower())


def _token_key(secret_key: str) -> bytes:
    # A key of its own, so a visitor token can never pass as any other signed value.
    return hashlib.sha256(("frontdesk-visitor-token:" + secret_key).encode()).digest()


def _signature(secret_key: str, inbox_uid: str, visitor: str) -> str:
    message = f"{inbox_uid}\n{visitor}".encode()
    return hmac.new(_token_key(secret_key), message, hashlib.sha256).hexdigest()


def issue_visitor_token(secret_key: str, inbox_uid: str, visitor: str) -> str:
    """A token naming `visitor` (the identity's source id) on this inbox only."""
    encoded = base64.urlsafe_b64encode(visitor.encode()).decode().rstrip("=")
    return f"{TOKEN_PREFIX}.{encoded}.{_signature(secret_key, inbox_uid, visitor)}"


def read_visitor_token(secret_key: str, inbox_uid: str, token: str) -> str | None:
    """The visitor a token names, or None when it is malformed, forged or for another inbox."""
    parts = token.strip().split(".")
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    try:
        visitor = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not same_secret(_signature(secret_key, inbox_uid, visitor), parts[2]):
        return None
    return visitor


def new_anonymous_visitor() -> str:
    return "anon:" + secrets.token_urlsafe(18)


def known_user_visitor(user_id: str) -> str:
    return "user:" + user_id
