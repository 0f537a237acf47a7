"""The email template of an email inbox (E5): the fields an administrator edits and their rules.

Pure: no database, no HTTP. A bad value raises InvalidInput naming the field, so nothing is saved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from frontdesk.domain.errors import InvalidInput, TooLarge
from frontdesk.domain.people import sniff_image  # the same magic bytes as profile pictures

__all__ = [
    "HEADER_IMAGE_MAX_BYTES",
    "TEXT_LIMITS",
    "URL_FIELDS",
    "EmailTemplate",
    "check_header_image",
    "check_template",
    "check_url",
    "subject_of_new_mail",
    "template_from_stored",
]

# Characters each text field may hold.
TEXT_LIMITS: dict[str, int] = {"subject": 200, "heading": 200, "body_text": 2000, "footnote": 1000}
URL_FIELDS: tuple[str, ...] = ("website_url", "app_store_url", "google_play_url", "terms_url", "privacy_url")
URL_MAX = 2000


@dataclass(frozen=True)
class EmailTemplate:
    subject: str = ""
    heading: str = ""
    body_text: str = ""
    footnote: str = ""
    website_url: str | None = None
    app_store_url: str | None = None
    google_play_url: str | None = None
    terms_url: str | None = None
    privacy_url: str | None = None
    show_header_image: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _text(values: Mapping[str, Any], name: str) -> str:
    value = values.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be text", field=name)
    value = value.replace("\r\n", "\n").strip()
    if len(value) > TEXT_LIMITS[name]:
        raise InvalidInput(f"{name} may be at most {TEXT_LIMITS[name]} characters", field=name)
    if name in ("subject", "heading") and "\n" in value:
        raise InvalidInput(f"{name} must be a single line", field=name)
    return value


def check_url(value: Any, name: str) -> str | None:
    """An http(s) address, or None for an empty value; anything else is refused."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be text", field=name)
    value = value.strip()
    if not value:
        return None
    if len(value) > URL_MAX:
        raise InvalidInput(f"{name} may be at most {URL_MAX} characters", field=name)
    try:
        parts = urlsplit(value)
    except ValueError:
        raise InvalidInput(f"{name} is not a valid address", field=name) from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"{name} must be an http:// or https:// address", field=name)
    if any(c.isspace() or ord(c) < 32 for c in value):
        raise InvalidInput(f"{name} must not contain spaces or control characters", field=name)
    return str(value)


def check_template(values: Mapping[str, Any]) -> EmailTemplate:
    """The template from submitted values (missing ones take their default), or InvalidInput."""
    show = values.get("show_header_image", False)
    if not isinstance(show, bool):
        raise InvalidInput("show_header_image must be true or false", field="show_header_image")
    texts = {name: _text(values, name) for name in TEXT_LIMITS}
    urls = {name: check_url(values.get(name), name) for name in URL_FIELDS}
    return EmailTemplate(
        subject=texts["subject"],
        heading=texts["heading"],
        body_text=texts["body_text"],
        footnote=texts["footnote"],
        website_url=urls["website_url"],
        app_store_url=urls["app_store_url"],
        google_play_url=urls["google_play_url"],
        terms_url=urls["terms_url"],
        privacy_url=urls["privacy_url"],
        show_header_image=show,
    )


def template_from_stored(fields: Mapping[str, Any] | None) -> EmailTemplate:
    """A saved template (checked when it was saved); unknown keys from older versions are dropped."""
    if not fields:
        return EmailTemplate()
    known = set(EmailTemplate.__dataclass_fields__)
    values = {k: v for k, v in fields.items() if k in known}
    # A value that no longer passes (a rule made stricter after it was saved) falls back to its
    # default instead of stopping every reply of the inbox.
    for name in list(values):
        try:
            check_template({name: values[name]})
        except InvalidInput:
            del values[name]
    return check_template(values)


HEADER_IMAGE_MAX_BYTES = 1_048_576


def check_header_image(content: bytes) -> str:
    """The header image's content type from its leading bytes, or a refusal naming the problem."""
    if not content:
        raise InvalidInput("the file is empty", field="file")
    if len(content) > HEADER_IMAGE_MAX_BYTES:
        raise TooLarge(f"a header image may be at most {HEADER_IMAGE_MAX_BYTES} bytes (1 MiB)", field="file")
    content_type = sniff_image(content[:16])
    if content_type is None:
        raise InvalidInput("a header image must be a PNG, JPEG, WebP or GIF image", field="file")
    return content_type


def subject_of_new_mail(given: str | None, template: EmailTemplate) -> str:
    """The subject of a mail an agent writes first: the one given, else the template's subject.
    A conversation started by email needs one (the customer's mailbox shows it)."""
    subject = " ".join((given or "").split())
    if len(subject) > TEXT_LIMITS["subject"]:
        raise InvalidInput(f"subject may be at most {TEXT_LIMITS['subject']} characters", field="subject")
    subject = subject or template.subject
    if not subject:
        raise InvalidInput(
            "subject is required: write one, or set a subject in the inbox's email template",
            field="subject",
            code="subject_required",
        )
    return subject
