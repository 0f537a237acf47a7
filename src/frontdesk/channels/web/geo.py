"""Where a visitor's IP address is: country, city and network (ISP), for the visitor panel.

With `settings.geoip_db` a MaxMind-format database is read (GeoIP2/GeoLite2 City, Country, ISP or
ASN, or DB-IP: their record layouts differ, and each is handled). Without it, or when that file
cannot be opened, the data bundled with geoip2fast gives the country and the network's name.

Databases are loaded once per process, lazily, by the first lookup: lookups are synchronous and
meant to run in a worker thread (`asyncio.to_thread`), so loading never blocks the event loop.
Why these choices, and what loading costs: docs/decisions/0010-visitor-tracking.md.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)

# geoip2fast's bundled file with countries and network (ASN) names, IPv4 and IPv6.
BUNDLED_FILE = "geoip2fast-asn-ipv6.dat.gz"

# Addresses that say nothing about where a person is: the visitor came through a private network,
# the same host, or a proxy that did not pass the client on. The documentation ranges
# (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) are deliberately not here: real databases do
# not list them, and the tests' database does.
_LOCAL_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/127",
        "::ffff:0:0/96",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
    )
)


@dataclass(frozen=True)
class Location:
    country_code: str | None = None
    country: str | None = None
    city: str | None = None
    isp: str | None = None


UNKNOWN = Location()


def parse_ip(value: str | None) -> str | None:
    """The address in its normal text form, or None when it is not an IP address. An
    IPv4-mapped IPv6 address (::ffff:1.2.3.4, what dual-stack servers report) becomes IPv4."""
    if not value:
        return None
    try:
        ip = ipaddress.ip_address(value.strip()[:64])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return str(ip)


def is_local(ip: str) -> bool:
    address = ipaddress.ip_address(ip)
    return any(address.version == n.version and address in n for n in _LOCAL_NETWORKS)


class Source(Protocol):
    def lookup(self, ip: str) -> Location: ...


def _text(value: Any, limit: int) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()[:limit]
    return None


def _name(value: Any) -> str | None:
    """A MaxMind `{"names": {"en": …}}` object, or a plain string (some third-party files)."""
    if isinstance(value, Mapping):
        names = value.get("names")
        if isinstance(names, Mapping):
            return _text(names.get("en"), 100)
        return None
    return _text(value, 100)


def location_of_record(record: Any) -> Location:
    """A database record, whichever of the layouts it has:
    City/Country: {"country": {"iso_code", "names": {"en"}}, "city": {"names": {"en"}}};
    ISP: {"isp", "organization", "autonomous_system_organization"};
    ASN: {"autonomous_system_organization"}; Enterprise: the network names under "traits";
    DB-IP lite: like City; some converters: flat "country_code"/"country_name"/"city" strings."""
    if not isinstance(record, Mapping):
        return UNKNOWN
    country = record.get("country") or record.get("registered_country")
    code: str | None = None
    name: str | None = None
    if isinstance(country, Mapping):
        code = _text(country.get("iso_code"), 2)
        name = _name(country)
    else:
        code = _text(record.get("country_code"), 2)
        name = _text(record.get("country_name") or country, 100)
    traits = record.get("traits")
    holders = (record, traits) if isinstance(traits, Mapping) else (record,)
    isp = next(
        (
            found
            for holder in holders
            for key in ("isp", "organization", "autonomous_system_organization")
            if (found := _text(holder.get(key), 200)) is not None
        ),
        None,
    )
    return Location(
        country_code=code.upper() if code else None,
        country=name,
        city=_name(record.get("city")),
        isp=isp,
    )


class MaxMindSource:
    def __init__(self, path: Path) -> None:
        import maxminddb

        self._reader = maxminddb.open_database(str(path), maxminddb.MODE_AUTO)

    def lookup(self, ip: str) -> Location:
        try:
            return location_of_record(self._reader.get(ip))
        except ValueError:  # an IPv6 address in an IPv4-only database, or a damaged record
            return UNKNOWN


class BundledSource:
    """geoip2fast's data: countries and network names, no cities. Its lookups report private,
    unknown and invalid addresses through special country codes ("--", "")."""

    def __init__(self) -> None:
        with warnings.catch_warnings():
            # Its source has regex strings with stray escapes: noise on first compile, harmless.
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", SyntaxWarning)
            from geoip2fast import GeoIP2Fast  # type: ignore[import-untyped]

        self._geo = GeoIP2Fast(geoip2fast_data_file=BUNDLED_FILE)

    def lookup(self, ip: str) -> Location:
        found = self._geo.lookup(ip)
        code = found.country_code if isinstance(found.country_code, str) else ""
        if len(code) != 2 or not code.isalpha() or found.is_private:
            return UNKNOWN
        return Location(
            country_code=code.upper(),
            country=_text(found.country_name, 100),
            city=None,
            isp=_text(found.asn_name, 200),
        )


class GeoIp:
    """One per database path, per process (see `geoip_for`)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._source: Source | None = None
        self._lock = threading.Lock()

    def _load(self) -> Source:
        with self._lock:
            if self._source is not None:
                return self._source
            source: Source | None = None
            if self.path is not None:
                try:
                    source = MaxMindSource(self.path)
                except Exception:
                    # Logged once: the source below is kept for the life of the process.
                    log.error(
                        "the geo-IP database FRONTDESK_GEOIP_DB could not be opened; using the "
                        "bundled country data instead",
                        exc_info=True,
                        extra={"path": str(self.path)},
                    )
            if source is None:
                source = _bundled()
            self._source = source
            return source

    def check_configured(self) -> None:
        """Open a configured database now (a memory map: cheap), so that a missing or damaged
        file is reported when the server starts, not at the first visitor. Blocking: run it in a
        thread. Without a configured file nothing is loaded: the bundled data waits for a visitor."""
        if self.path is not None:
            self._load()

    def lookup(self, ip: str | None) -> Location:
        """Blocking (the first call loads the database): run it in a thread. Never raises."""
        address = parse_ip(ip)
        if address is None or is_local(address):
            return UNKNOWN
        try:
            return self._load().lookup(address)
        except Exception:
            log.warning("geo-IP lookup failed", exc_info=True)
            return UNKNOWN


class _NoData:
    def lookup(self, ip: str) -> Location:
        return UNKNOWN


_bundled_source: Source | None = None
_bundled_lock = threading.Lock()


def _bundled() -> Source:
    """geoip2fast keeps its tables in module globals, so one instance serves the whole process."""
    global _bundled_source
    with _bundled_lock:
        if _bundled_source is None:
            try:
                _bundled_source = BundledSource()
            except Exception:
                log.error("the bundled geo-IP data could not be loaded; no locations", exc_info=True)
                _bundled_source = _NoData()
        return _bundled_source


_instances: dict[Path | None, GeoIp] = {}
_instances_lock = threading.Lock()


def geoip_for(path: Path | None) -> GeoIp:
    with _instances_lock:
        found = _instances.get(path)
        if found is None:
            found = _instances[path] = GeoIp(path)
        return found
