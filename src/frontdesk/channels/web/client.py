"""What a visitor's browser is (PRODUCT W2): location from its address, device from its user
agent, language from its header. Read here, in the channel, so actions/web/visits.py only stores
the facts (the geo-IP file and the user-agent parser are the web channel's own)."""

from __future__ import annotations

import asyncio
import re

from frontdesk.actions.web.visits import ClientFacts
from frontdesk.channels.web.geo import geoip_for, parse_ip
from frontdesk.channels.web.useragent import MAX_LENGTH as UA_LIMIT
from frontdesk.channels.web.useragent import parse_user_agent
from frontdesk.settings import Settings

_LANGUAGE = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")


def clean_language(value: str | None) -> str | None:
    """The first tag of a language or Accept-Language value ("tr-TR,tr;q=0.9" → "tr-TR")."""
    if not value or not isinstance(value, str):
        return None
    first = value.split(",", 1)[0].split(";", 1)[0].strip()
    return first[:20] if _LANGUAGE.fullmatch(first) else None


def _user_agent(value: str | None) -> str | None:
    """Whitespace collapsed, cut to the column size; empty becomes None."""
    if not value or not isinstance(value, str):
        return None
    return " ".join(value.split())[:UA_LIMIT] or None


async def describe_client(
    settings: Settings, ip: str | None, user_agent: str | None, language: str | None
) -> ClientFacts:
    """Location and device of a visitor's browser. Never raises: an unknown, private or invalid
    address gives no location. The lookups run in a thread (the first one loads the geo-IP
    database), so the event loop is never held by them."""
    geo = geoip_for(settings.geoip_db)
    address = parse_ip(ip)
    agent_text = _user_agent(user_agent)

    def lookup() -> ClientFacts:
        place = geo.lookup(address)
        agent = parse_user_agent(agent_text)
        return ClientFacts(
            ip=address,
            country_code=place.country_code,
            country=place.country,
            city=place.city,
            isp=place.isp,
            user_agent=agent_text,
            browser=agent.browser,
            os=agent.os,
            device=agent.device,
            language=clean_language(language),
        )

    return await asyncio.to_thread(lookup)
