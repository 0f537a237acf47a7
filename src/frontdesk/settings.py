"""Every setting Frontdesk reads, its default and its FRONTDESK_* environment variable.

docs/settings.md is checked against this class by a test, so a setting cannot go undocumented.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from frontdesk.channels.email.settings import EmailInstallationSettings
from frontdesk.mail.outbound import MailConfig

DEV_SECRET_KEY = "dev-insecure-secret-key-change-me"


# The channels' installation settings are declared in their packages and read from the same
# environment: Settings is one object with every field, so docs/settings.md is checked for all.
class Settings(EmailInstallationSettings, BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FRONTDESK_", extra="ignore")

    data_dir: Path = Field(
        default=Path("data"), description="Folder for the SQLite database and attachments."
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy async URL; empty means SQLite in data_dir "
        "(e.g. postgresql+asyncpg://user@host/db).",
    )
    redis_url: str = Field(
        default="", description="Redis URL for realtime fan-out between processes; empty means in-process."
    )
    redis_channel: str = Field(
        default="frontdesk:events",
        description="Redis pub/sub channel of this installation; installations sharing one Redis "
        "must each have their own (pub/sub ignores the Redis database number).",
    )
    secret_key: str = Field(
        default=DEV_SECRET_KEY,
        description="Key that encrypts channel secrets at rest. Required outside dev mode.",
    )
    dev_mode: bool = Field(
        default=False, description="Allows the placeholder secret key and insecure cookies."
    )
    host: str = Field(default="127.0.0.1", description="Address `frontdesk serve` listens on.")
    port: int = Field(default=8000, description="Port `frontdesk serve` listens on.")
    public_url: str = Field(
        default="",
        description="The address users and providers reach Frontdesk at, e.g. https://desk.example.com; "
        "used for links in outgoing messages (attachments). Empty: http://host:port.",
    )
    max_body_bytes: int = Field(
        default=1_048_576, description="Largest accepted request body for JSON and webhooks."
    )
    max_attachment_bytes: int = Field(default=25 * 1_048_576, description="Largest accepted attachment.")
    widget_max_upload_bytes: int = Field(
        default=10 * 1_048_576, description="Largest file a website visitor may send through the widget."
    )
    geoip_db: Path | None = Field(
        default=None,
        description="A MaxMind-format database (.mmdb: GeoLite2/GeoIP2 City, ISP or ASN, or DB-IP) for "
        "visitor locations. Unset: the country and network database shipped with geoip2fast.",
    )
    session_days: int = Field(default=14, description="How long a dashboard sign-in lasts.")
    job_lease_seconds: float = Field(
        default=30.0, description="How long a worker owns a claimed job before another may take it."
    )
    job_max_attempts: int = Field(
        default=110,
        ge=1,
        description="Delivery attempts before a job is marked failed; with the back-off below the "
        "attempts of a reply span at least 25 hours (domain/rules.py retry_span).",
    )
    job_poll_seconds: float = Field(default=0.05, description="How often an idle worker looks for due jobs.")
    job_backoff_base_seconds: float = Field(
        default=2.0, description="First retry delay; doubles each attempt, with jitter."
    )
    job_backoff_max_seconds: float = Field(default=1800.0, description="Longest delay between two attempts.")
    events_retention_days: int = Field(
        default=30, ge=1, description="Days the change log keeps events for clients that resume."
    )
    outbound_timeout_seconds: float = Field(
        default=10.0, description="Timeout of every HTTP call to a provider."
    )
    smtp_host: str = Field(
        default="", description="SMTP server for the emails Frontdesk sends; empty turns email off."
    )
    smtp_port: int = Field(default=587, description="Port of the SMTP server.")
    smtp_username: str = Field(default="", description="SMTP user name; empty: no authentication.")
    smtp_password: str = Field(default="", description="SMTP password.")
    smtp_starttls: bool = Field(default=True, description="Require STARTTLS before authenticating.")
    mail_from: str = Field(
        default="Frontdesk <frontdesk@localhost>", description="From address of the emails Frontdesk sends."
    )
    demo_relay_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="Dev mode only (`make demo`): port of a capturing SMTP relay on 127.0.0.1 run by "
        "`frontdesk serve`; what it is sent is kept in data_dir/demo-outbox, listed at /demo/outbox, "
        "never delivered. 0: off.",
    )
    demo_simulated_channels: bool = Field(
        default=False,
        description="Dev mode only (`make demo`): `frontdesk serve` also answers as the providers of "
        "the channels that have a demo simulator (frontdesk/demo_sim/), under /demo/sim/<channel>/, and "
        "serves /demo/customer, where one plays their customers. Never in production.",
    )
    metrics_token: str = Field(
        default="",
        description="Bearer token Prometheus sends to read /metrics; empty: /metrics is 404 "
        "outside dev mode (docs/decisions/0019).",
    )
    log_format: str = Field(default="json", description="`json` for structured logs, `text` for people.")
    log_level: str = Field(default="INFO", description="Python logging level.")

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if not self.dev_mode and self.secret_key == DEV_SECRET_KEY:
            raise ValueError(
                "FRONTDESK_SECRET_KEY is the development placeholder; set a real key "
                "(python -c 'import secrets; print(secrets.token_urlsafe(32))') or FRONTDESK_DEV_MODE=1"
            )
        if self.demo_relay_port and not self.dev_mode:
            raise ValueError("FRONTDESK_DEMO_RELAY_PORT is demo equipment: it needs FRONTDESK_DEV_MODE=1")
        if self.demo_simulated_channels and not self.dev_mode:
            raise ValueError(
                "FRONTDESK_DEMO_SIMULATED_CHANNELS is demo equipment: it needs FRONTDESK_DEV_MODE=1"
            )
        if len(self.secret_key) < 16:
            raise ValueError("FRONTDESK_SECRET_KEY must be at least 16 characters")
        if self.metrics_token and len(self.metrics_token) < 16:
            raise ValueError("FRONTDESK_METRICS_TOKEN must be at least 16 characters")
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'frontdesk.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"

    @property
    def effective_public_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def mail_config(self) -> MailConfig:
        return MailConfig(
            host=self.smtp_host,
            port=self.smtp_port,
            username=self.smtp_username,
            password=self.smtp_password,
            security="starttls" if self.smtp_starttls else "none",
            mail_from=self.mail_from,
            timeout=self.outbound_timeout_seconds,
        )
