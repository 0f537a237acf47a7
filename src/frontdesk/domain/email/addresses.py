"""Hosted email addresses (PRODUCT E1): `<local part>@<workspace mail slug>.<mail domain>`.

Pure rules, no I/O: making a workspace's mail slug from its name, and reading a recipient
address back into its parts.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = [
    "MAX_SLUG_LENGTH",
    "REPLY_LOCAL_PREFIX",
    "HostedRecipient",
    "hosted_address",
    "hosted_domain",
    "read_recipient",
    "slug_candidates",
    "slugify",
    "valid_local_part",
]

MAX_SLUG_LENGTH = 40
REPLY_LOCAL_PREFIX = "reply+"
# Letters NFKD does not take apart into an ASCII letter and a mark.
_TRANSLITERATE = str.maketrans({"ı": "i", "İ": "i", "ß": "ss", "æ": "ae", "ø": "o", "đ": "d", "ł": "l"})
_LOCAL_PART = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$")


def slugify(name: str) -> str:
    """A DNS label from a workspace name ("Çiçek Ltd." → "cicek-ltd"); "" if nothing is left
    (a name in Persian script, say), for the caller to replace."""
    ascii_only = (
        unicodedata.normalize("NFKD", name.translate(_TRANSLITERATE))
        .encode("ascii", "ignore")
        .decode("ascii")
        .lower()
    )
    return re.sub(r"[^a-z0-9]+", "-", ascii_only).strip("-")[:MAX_SLUG_LENGTH].strip("-")


def slug_candidates(name: str, workspace_id: int) -> list[str]:
    """Slugs to try in order until one is free: the name's, then numbered ones, then the id's."""
    base = slugify(name)
    if not base:
        return [f"workspace-{workspace_id}"]
    numbered = [f"{base[: MAX_SLUG_LENGTH - 3]}-{n}" for n in range(2, 6)]
    return [base, *numbered, f"{base[: MAX_SLUG_LENGTH - 12]}-{workspace_id}"]


def valid_local_part(value: str) -> bool:
    """Lower-case letters, digits, dots, dashes and underscores; "reply" is kept for tokens."""
    return bool(_LOCAL_PART.match(value)) and not value.startswith("reply")


def hosted_domain(mail_slug: str, mail_domain: str) -> str:
    return f"{mail_slug}.{mail_domain.strip('.').lower()}"


def hosted_address(local_part: str, mail_slug: str, mail_domain: str) -> str:
    return f"{local_part}@{hosted_domain(mail_slug, mail_domain)}"


@dataclass(frozen=True)
class HostedRecipient:
    local_part: str  # lower-case; for a reply address, the whole "reply+<token>"
    mail_slug: str
    reply_token: str | None  # set for reply+<token>@…


def read_recipient(address: str, mail_domain: str) -> HostedRecipient | None:
    """The parts of an envelope recipient on our mail domain, or None for any other address."""
    local, at, domain = address.strip().strip("<>").rpartition("@")
    suffix = "." + mail_domain.strip(".").lower()
    domain = domain.lower().rstrip(".")
    if not at or not local or not domain.endswith(suffix):
        return None
    slug = domain[: -len(suffix)]
    if not slug or "." in slug:
        return None
    # Local parts are case-insensitive here; a token keeps its case (it is base64-like).
    if local.lower().startswith(REPLY_LOCAL_PREFIX):
        token = local[len(REPLY_LOCAL_PREFIX) :]
        return HostedRecipient(local.lower(), slug, token or None) if token else None
    return HostedRecipient(local.lower(), slug, None)
