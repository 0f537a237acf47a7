"""A small MaxMind-format geo-IP database for tests, written with mmdb_writer: real files read by
the real reader (maxminddb), with documentation address ranges no real database lists.

    203.0.113.0/24  → TR, Turkey, Istanbul, ISP "Example Telekom"      (a City+ISP layout)
    198.51.100.0/24 → DE, Germany, no city, ASN "Example Networks GmbH" (a Country+ASN layout)
    2001:db8::/32   → NL, Netherlands, Amsterdam, organization "Example IPv6 BV"
"""

from __future__ import annotations

from pathlib import Path

from mmdb_writer import MMDBWriter
from netaddr import IPSet

ISTANBUL_IP = "203.0.113.9"
GERMANY_IP = "198.51.100.20"
AMSTERDAM_IP = "2001:db8::7"


def _country(code: str, name: str) -> dict[str, object]:
    return {"iso_code": code, "names": {"en": name, "de": f"{name} (de)"}}


def write_test_geoip_db(path: Path) -> Path:
    """Write the database to `path` (its folder must exist) and return the path."""
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="Frontdesk-Test-City")
    writer.insert_network(
        IPSet(["203.0.113.0/24"]),
        {
            "country": _country("TR", "Turkey"),
            "city": {"names": {"en": "Istanbul", "tr": "İstanbul"}},
            "isp": "Example Telekom",
            "organization": "Example Telekom Business",
        },
    )
    writer.insert_network(
        IPSet(["198.51.100.0/24"]),
        {"country": _country("DE", "Germany"), "autonomous_system_organization": "Example Networks GmbH"},
    )
    writer.insert_network(
        IPSet(["2001:db8::/32"]),
        {
            "country": _country("NL", "Netherlands"),
            "city": {"names": {"en": "Amsterdam"}},
            "traits": {"organization": "Example IPv6 BV"},
        },
    )
    writer.to_db_file(str(path))
    return path
