"""An agent's dashboard preferences: what may be stored, with the defaults a new agent gets."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

Theme = Literal["light", "dark", "system"]
NotifyOn = Literal["new_conversation", "new_message", "mention", "assignment"]
ALL_NOTIFICATIONS: list[NotifyOn] = ["new_conversation", "new_message", "mention", "assignment"]
Locale = Literal["en", "tr", "fa"]
LOCALES: tuple[Locale, ...] = ("en", "tr", "fa")


class Preferences(BaseModel):
    """The full set, every field filled: what GET /me returns."""

    model_config = ConfigDict(extra="forbid", strict=True)

    theme: Theme = "system"
    sound: bool = True
    browser_notifications: bool = True
    notify_on: list[NotifyOn] = Field(default_factory=lambda: list(ALL_NOTIFICATIONS))
    auto_away_minutes: int = Field(default=10, ge=0, le=480, description="0: never")
    hotkeys: bool = True


class PreferencesPatch(BaseModel):
    """A partial update: only the fields sent change; an unknown field is refused."""

    model_config = ConfigDict(extra="forbid", strict=True)

    theme: Theme | None = None
    sound: bool | None = None
    browser_notifications: bool | None = None
    notify_on: list[NotifyOn] | None = Field(default=None, max_length=len(ALL_NOTIFICATIONS))
    auto_away_minutes: int | None = Field(default=None, ge=0, le=480)
    hotkeys: bool | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # null would be ambiguous (reset? keep?): a field left out is kept, so null is refused.
        if value is None:
            raise ValueError("must not be null; leave the field out to keep its value")
        return value


def stored_preferences(stored: dict[str, Any] | None) -> Preferences:
    """Read what the database holds. A value that no longer passes (a key dropped, a range
    narrowed in a later version) falls back to its default instead of breaking the profile."""
    kept: dict[str, Any] = {}
    for key, value in (stored or {}).items():
        if key not in Preferences.model_fields:
            continue
        try:
            Preferences.model_validate({key: value})
        except ValidationError:
            continue
        kept[key] = value
    return Preferences.model_validate(kept)


def merge_preferences(stored: dict[str, Any] | None, patch: PreferencesPatch) -> Preferences:
    changes = {k: v for k, v in patch.model_dump(exclude_unset=True).items() if v is not None}
    if "notify_on" in changes:
        # Order and repeats carry no meaning: keep each kind once, in the canonical order.
        changes["notify_on"] = [n for n in ALL_NOTIFICATIONS if n in changes["notify_on"]]
    return Preferences.model_validate({**stored_preferences(stored).model_dump(), **changes})
