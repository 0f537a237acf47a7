"""The Telegram channel's installation settings, read from the FRONTDESK_* environment like the
rest (FRONTDESK_TELEGRAM_API_BASE …). Not per inbox: where the Bot API lives is the same for every
bot of an installation (a self-hosted Bot API server, or the fake provider in tests)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["CLOUD_DOWNLOAD_LIMIT", "TelegramInstallationSettings"]

# What the cloud Bot API lets a bot download with getFile (a self-hosted server lifts it).
CLOUD_DOWNLOAD_LIMIT = 20 * 1_048_576


class TelegramInstallationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FRONTDESK_TELEGRAM_", extra="ignore")

    api_base: str = Field(
        default="https://api.telegram.org",
        description="Base address of the Bot API (methods at <base>/bot<token>/<method>, files at "
        "<base>/file/bot<token>/<path>); a self-hosted Bot API server's address here.",
    )
    download_limit_bytes: int = Field(
        default=CLOUD_DOWNLOAD_LIMIT,
        ge=1,
        description="Largest file a bot may download (the cloud Bot API's 20 MB); a bigger file "
        "becomes a note on its message instead of a download.",
    )
    timeout_seconds: float = Field(default=30.0, gt=0, description="Timeout of each Bot API call.")
