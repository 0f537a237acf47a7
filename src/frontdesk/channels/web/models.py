"""What the website widget sends (docs/channels/web-widget-protocol.md). Unknown fields and wrong
types are refused (422); customer content is cleaned, never refused for a NUL."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from frontdesk.domain.input import Id, clean


class VisitorBody(BaseModel):
    """What the website widget sends: customer content, never refused for a NUL (replaced by
    U+FFFD, which PostgreSQL can store)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @field_validator("*", mode="after")
    @classmethod
    def _clean(cls, value: Any) -> Any:
        return clean(value)


class VisitorIdentityIn(VisitorBody):
    user_id: str = Field(min_length=1, max_length=200)
    hash: str = Field(min_length=1, max_length=128, description="Hex HMAC-SHA256 of user_id.")


def _cut(limit: int) -> AfterValidator:
    # Tracking input is cut to size, never refused: a long URL must not stop the chat.
    return AfterValidator(lambda value: value[:limit] if isinstance(value, str) else value)


class VisitorPageIn(VisitorBody):
    """The page the widget is on (tracking: best effort, cleaned by the tracking action)."""

    url: Annotated[str, _cut(2000)]
    title: Annotated[str | None, _cut(500)] = None
    referrer: Annotated[str | None, _cut(2000)] = None


class VisitorSessionIn(VisitorBody):
    visitor_token: str | None = Field(default=None, max_length=1000)
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    identity: VisitorIdentityIn | None = None
    page: VisitorPageIn | None = None
    language: Annotated[str | None, _cut(100)] = Field(
        default=None, description="The browser's language, e.g. tr-TR."
    )


class VisitorOfflineIn(VisitorBody):
    """The offline form: left when no agent is online."""

    visitor_token: str | None = Field(default=None, max_length=1000)
    name: str | None = Field(default=None, max_length=200)
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    phone: str | None = Field(default=None, max_length=40)
    text: str = Field(min_length=1, max_length=65_536)


class VisitorCsatIn(VisitorBody):
    conversation_id: Id
    rating: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=2000)


class VisitorMessageIn(VisitorBody):
    text: str = Field(max_length=65_536)
    client_id: str = Field(
        min_length=1, max_length=100, description="The widget's id for this message: a resend is stored once."
    )
