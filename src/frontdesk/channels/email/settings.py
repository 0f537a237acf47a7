"""The email channel's installation settings (FRONTDESK_MAIL_DOMAIN, the SMTP listener, the
own-server connections, the DNS check), read from the same FRONTDESK_* environment as the rest.

frontdesk.settings.Settings includes them, so they are reached as settings.mail_domain and so on;
EmailInstallationSettings() alone reads just these. The relay that password resets and
invitations leave through (FRONTDESK_SMTP_HOST …) is not the channel's and stays in settings.py.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["EmailInstallationSettings"]


class EmailInstallationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FRONTDESK_", extra="ignore")

    mail_domain: str = Field(
        default="",
        description="Mail domain of hosted addresses: an email inbox receives at "
        "<name>@<workspace>.<mail domain>. Empty: no hosted addresses.",
    )
    smtp_listen_host: str = Field(
        default="127.0.0.1", description="Address the SMTP listener for hosted addresses binds to."
    )
    smtp_listen_port: int = Field(
        default=0, ge=0, le=65535, description="Port of the SMTP listener; 0 (the default) turns it off."
    )
    smtp_listen_max_bytes: int = Field(
        default=30 * 1_048_576, ge=1024, description="Largest mail the SMTP listener accepts (SIZE)."
    )
    smtp_tls_cert: Path | None = Field(
        default=None, description="Certificate (PEM) the SMTP listener offers with STARTTLS."
    )
    smtp_tls_key: Path | None = Field(default=None, description="Private key (PEM) of that certificate.")
    mail_ca_file: Path | None = Field(
        default=None,
        description="Extra certificate authorities (PEM) trusted for the IMAP and SMTP servers of "
        "own-server email inboxes, beside the system's; for a company CA.",
    )
    imap_poll_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How often own-server email inboxes are checked for new mail when the IMAP "
        "server has no IDLE (with IDLE, new mail arrives at once).",
    )
    mail_mx_host: str = Field(
        default="",
        description="Host name of the MX record customers' own domains point to; empty: the mail "
        "domain itself.",
    )
    spf_include: str = Field(
        default="",
        description="Domain customers add to their SPF record as include:<domain> so replies sent "
        "from their own address pass SPF; empty: _spf.<mail domain>.",
    )
    dns_servers: str = Field(
        default="",
        description="Comma-separated DNS servers (host or host:port) the DNS check asks; empty: "
        "the system's resolvers.",
    )

    @model_validator(mode="after")
    def _listener_needs_its_parts(self) -> EmailInstallationSettings:
        if (self.smtp_tls_cert is None) != (self.smtp_tls_key is None):
            raise ValueError("FRONTDESK_SMTP_TLS_CERT and FRONTDESK_SMTP_TLS_KEY must be set together")
        if self.smtp_listen_port and not self.mail_domain:
            raise ValueError("FRONTDESK_SMTP_LISTEN_PORT needs FRONTDESK_MAIL_DOMAIN")
        return self
