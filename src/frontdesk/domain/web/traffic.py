"""Where a website visitor came from (PRODUCT W2): the traffic source of a visit, from the page's
UTM parameters and the referrer. Pure functions: what the browser sent goes in, a label comes out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import parse_qs, urlsplit


class SourceKind(StrEnum):
    DIRECT = "direct"
    SEARCH = "search"
    SOCIAL = "social"
    REFERRAL = "referral"
    CAMPAIGN = "campaign"


@dataclass(frozen=True)
class TrafficSource:
    kind: SourceKind
    source: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None


# (host pattern, name). A pattern matches the host without "www." / "m."; `[a-z.]+` stands for
# the country endings (google.com.tr, yandex.ru, yahoo.co.jp).
_SEARCH = (
    (r"google\.[a-z.]+", "Google"),
    (r"bing\.com", "Bing"),
    (r"yandex\.[a-z.]+|ya\.ru", "Yandex"),
    (r"duckduckgo\.com", "DuckDuckGo"),
    (r"(search\.)?yahoo\.[a-z.]+", "Yahoo"),
    (r"baidu\.com", "Baidu"),
    (r"ecosia\.org", "Ecosia"),
    (r"(search\.)?naver\.com", "Naver"),
    (r"(search\.)?seznam\.cz", "Seznam"),
    (r"search\.brave\.com", "Brave"),
    (r"startpage\.com", "Startpage"),
    (r"qwant\.com", "Qwant"),
    (r"sogou\.com", "Sogou"),
    (r"ask\.com", "Ask"),
    (r"search\.aol\.com", "AOL"),
)
_SOCIAL = (
    (r"(l\.|lm\.)?facebook\.com|fb\.com|fb\.me", "Facebook"),
    (r"(l\.)?instagram\.com", "Instagram"),
    (r"t\.co|twitter\.com|x\.com", "X"),
    (r"linkedin\.com|lnkd\.in", "LinkedIn"),
    (r"youtube\.com|youtu\.be", "YouTube"),
    (r"(old\.|out\.)?reddit\.com", "Reddit"),
    (r"tiktok\.com", "TikTok"),
    (r"t\.me|(web\.)?telegram\.org", "Telegram"),
    (r"wa\.me|(web\.)?whatsapp\.com", "WhatsApp"),
    (r"pinterest\.[a-z.]+|pin\.it", "Pinterest"),
    (r"vk\.com", "VK"),
    (r"threads\.net", "Threads"),
    (r"bsky\.app", "Bluesky"),
    (r"quora\.com", "Quora"),
    (r"tumblr\.com", "Tumblr"),
    (r"discord\.com", "Discord"),
    (r"snapchat\.com", "Snapchat"),
)
_SEARCH_RE = tuple((re.compile(rf"(?:{p})"), name) for p, name in _SEARCH)
_SOCIAL_RE = tuple((re.compile(rf"(?:{p})"), name) for p, name in _SOCIAL)
_UTM_LIMIT = 200


def clean_url(value: str | None, limit: int) -> str | None:
    """An http(s) URL cut to `limit` characters, or None: other schemes (javascript:, data:,
    file:) and things that are not URLs are dropped, never stored."""
    if not value or not isinstance(value, str):
        return None
    value = value.strip()
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return value[:limit]


def host_of(url: str | None) -> str | None:
    """The host without port and without a leading "www." or "m.", lower case."""
    if not url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    if not host:
        return None
    host = host.lower().rstrip(".")
    for prefix in ("www.", "m."):
        if host.startswith(prefix) and host.count(".") > 1:
            host = host[len(prefix) :]
    return host


def _match(host: str, table: tuple[tuple[re.Pattern[str], str], ...]) -> str | None:
    return next((name for pattern, name in table if pattern.fullmatch(host)), None)


def _utm(page_url: str | None) -> dict[str, str | None]:
    found: dict[str, str | None] = {"utm_source": None, "utm_medium": None, "utm_campaign": None}
    if not page_url:
        return found
    try:
        query = parse_qs(urlsplit(page_url).query)
    except ValueError:
        return found
    for key in found:
        values = [v.strip() for v in query.get(key, []) if v.strip()]
        found[key] = values[0][:_UTM_LIMIT] if values else None
    return found


def classify(page_url: str | None, referrer: str | None) -> TrafficSource:
    """UTM parameters on the landing page make a campaign (named by utm_source); otherwise the
    referrer's host decides: a search engine, a social network, the site itself (direct), or any
    other site (a referral, named by its host). No referrer: direct."""
    utm = _utm(page_url)
    if any(utm.values()):
        return TrafficSource(SourceKind.CAMPAIGN, utm["utm_source"], **utm)
    ref_host = host_of(referrer)
    if ref_host is None:
        return TrafficSource(SourceKind.DIRECT)
    if ref_host == host_of(page_url):
        return TrafficSource(SourceKind.DIRECT)  # a link inside the site itself
    if (engine := _match(ref_host, _SEARCH_RE)) is not None:
        return TrafficSource(SourceKind.SEARCH, engine)
    if (network := _match(ref_host, _SOCIAL_RE)) is not None:
        return TrafficSource(SourceKind.SOCIAL, network)
    return TrafficSource(SourceKind.REFERRAL, ref_host[:200])
