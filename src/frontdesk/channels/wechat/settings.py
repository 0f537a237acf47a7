"""The WeChat channel's installation settings, read from the same FRONTDESK_* environment as
the rest: where WeChat's API is (tests point it at the fake provider)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["WechatInstallationSettings"]


class WechatInstallationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FRONTDESK_", extra="ignore")

    wechat_api_base: str = Field(
        default="https://api.weixin.qq.com",
        description="Base URL of WeChat's server API (access token, customer-service messages, "
        "media, user info, QR codes).",
    )
    wechat_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Timeout of each call to WeChat's API, in seconds."
    )
