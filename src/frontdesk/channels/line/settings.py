"""The LINE channel's installation settings, read from the FRONTDESK_* environment: where the
Messaging API lives (tests and the demo point these at a fake provider) and how often the
monthly message quota is read.

Read lazily, only when the channel calls LINE, so verifying and parsing a webhook costs nothing.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["LineInstallationSettings"]


class LineInstallationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FRONTDESK_", extra="ignore")

    line_api_url: str = Field(
        default="https://api.line.me", description="Base address of LINE's Messaging API."
    )
    line_data_url: str = Field(
        default="https://api-data.line.me",
        description="Base address of LINE's content API (the files customers send).",
    )
    line_sticker_url: str = Field(
        default="https://stickershop.line-scdn.net",
        description="Base address of LINE's sticker images (shown instead of a sticker's id).",
    )
    line_quota_poll_seconds: float = Field(
        default=600.0,
        gt=0,
        description="How often the worker reads each LINE inbox's monthly message quota.",
    )
