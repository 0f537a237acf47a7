"""A browser's User-Agent header as people read it: "Chrome 131", "Windows 10", and the kind of
device (desktop, mobile, tablet, bot). Parsed with ua-parser's bundled rules; results are cached,
since a visitor sends the same header on every page."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

# Longer headers exist only to attack parsers; the stored column holds 500 characters.
MAX_LENGTH = 500

_BOT = re.compile(r"bot\b|crawl|spider|slurp|facebookexternalhit|mediapartners", re.IGNORECASE)
_TABLET = re.compile(r"ipad|tablet|kindle|silk/|playbook|nexus (7|9|10)\b", re.IGNORECASE)
_MOBILE = re.compile(r"mobi|iphone|ipod|android|windows phone|blackberry|opera mini", re.IGNORECASE)
_DESKTOP_OS = (
    "Windows",
    "Mac OS X",
    "Linux",
    "Ubuntu",
    "Fedora",
    "Debian",
    "Chrome OS",
    "FreeBSD",
    "OpenBSD",
)


@dataclass(frozen=True)
class UserAgentFacts:
    browser: str | None = None
    os: str | None = None
    device: str | None = None  # "desktop" | "mobile" | "tablet" | "bot"


UNKNOWN = UserAgentFacts()


def _label(family: str | None, *versions: str | None) -> str | None:
    if not family or family == "Other":
        return None
    version = ".".join(v for v in versions if v)
    return (f"{family} {version}" if version else family)[:100]


def _device(ua: str, os_family: str | None, device_family: str | None, brand: str | None) -> str | None:
    if device_family == "Spider" or _BOT.search(ua):
        return "bot"
    if device_family == "iPad" or brand == "Generic_Android_Tablet" or _TABLET.search(ua):
        return "tablet"
    if os_family == "Android" and "mobile" not in ua.lower():
        return "tablet"  # Android browsers leave "Mobile" out on tablets
    if _MOBILE.search(ua) or os_family in ("iOS", "Android"):
        return "mobile"
    if os_family in _DESKTOP_OS or os_family == "Mac OS X":
        return "desktop"
    return None


@functools.lru_cache(maxsize=4096)
def _parse(ua: str) -> UserAgentFacts:
    import ua_parser

    result = ua_parser.parse(ua)
    browser = result.user_agent
    system = result.os
    device = result.device
    os_family = system.family if system else None
    return UserAgentFacts(
        browser=_label(browser.family, browser.major) if browser else None,
        # Windows reports its version as the major number ("10"); others read best with the
        # minor too ("iOS 17.5", "Mac OS X 10.15").
        os=_label(os_family, system.major, system.minor) if system else None,
        device=_device(ua, os_family, device.family if device else None, device.brand if device else None),
    )


def parse_user_agent(user_agent: str | None) -> UserAgentFacts:
    """Never raises; an empty or unrecognisable header gives None fields."""
    if not user_agent or not user_agent.strip():
        return UNKNOWN
    try:
        return _parse(user_agent.strip()[:MAX_LENGTH])
    except Exception:
        return UNKNOWN
