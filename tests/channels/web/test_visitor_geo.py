"""Geo-IP for visitors: a MaxMind-format file (written by tests/geo_fixture.py, read by the real
maxminddb reader), the record layouts of the database kinds, the fallback when the file is
missing or damaged, and the data bundled with geoip2fast (real data)."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import pytest

from frontdesk.channels.web.client import describe_client
from frontdesk.channels.web.geo import GeoIp, Location, geoip_for, location_of_record
from tests.conftest import Server, make_settings
from tests.geo_fixture import AMSTERDAM_IP, GERMANY_IP, ISTANBUL_IP, write_test_geoip_db


async def test_a_configured_database_gives_country_city_and_network(tmp_path: Path) -> None:
    settings = make_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}",
        tmp_path,
        geoip_db=write_test_geoip_db(tmp_path / "t.mmdb"),
    )
    istanbul = await describe_client(settings, ISTANBUL_IP, None, None)
    assert (istanbul.ip, istanbul.country_code, istanbul.country, istanbul.city, istanbul.isp) == (
        ISTANBUL_IP,
        "TR",
        "Turkey",
        "Istanbul",
        "Example Telekom",  # `isp` wins over `organization`
    )
    germany = await describe_client(settings, GERMANY_IP, None, None)
    assert (germany.country_code, germany.country, germany.city, germany.isp) == (
        "DE",
        "Germany",
        None,
        "Example Networks GmbH",
    )
    amsterdam = await describe_client(settings, AMSTERDAM_IP, None, None)
    assert (amsterdam.country_code, amsterdam.city, amsterdam.isp) == ("NL", "Amsterdam", "Example IPv6 BV")
    # An IPv4 address as a dual-stack server reports it.
    mapped = await describe_client(settings, f"::ffff:{ISTANBUL_IP}", None, None)
    assert (mapped.ip, mapped.city) == (ISTANBUL_IP, "Istanbul")
    # Not in the file, private, loopback, or not an address at all: no location, no error.
    for ip in ("8.8.8.8", "192.168.0.5", "127.0.0.1", "::1", "999.1.1.1", "", None):
        facts = await describe_client(settings, ip, None, None)
        assert (facts.country_code, facts.country, facts.city, facts.isp) == (None, None, None, None), ip


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (  # GeoLite2-City / GeoIP2-City
            {
                "city": {"geoname_id": 745044, "names": {"en": "Istanbul", "de": "Istanbul"}},
                "country": {"geoname_id": 298795, "iso_code": "TR", "names": {"en": "Türkiye"}},
                "location": {"latitude": 41.0, "longitude": 28.9},
            },
            Location("TR", "Türkiye", "Istanbul", None),
        ),
        (  # GeoLite2-Country: only the registered country
            {"registered_country": {"iso_code": "DE", "names": {"en": "Germany"}}},
            Location("DE", "Germany", None, None),
        ),
        (  # GeoIP2-ISP
            {
                "autonomous_system_number": 9121,
                "autonomous_system_organization": "Turk Telekomunikasyon Anonim Sirketi",
                "isp": "Turk Telekom",
                "organization": "Turk Telekom",
            },
            Location(None, None, None, "Turk Telekom"),
        ),
        (  # GeoLite2-ASN
            {"autonomous_system_number": 15169, "autonomous_system_organization": "GOOGLE"},
            Location(None, None, None, "GOOGLE"),
        ),
        (  # GeoIP2-Enterprise: network names under traits
            {"country": {"iso_code": "nl", "names": {"en": "Netherlands"}}, "traits": {"isp": "Example ISP"}},
            Location("NL", "Netherlands", None, "Example ISP"),
        ),
        (  # DB-IP lite city, and converters that write flat strings
            {"country_code": "FR", "country_name": "France", "city": "Paris"},
            Location("FR", "France", "Paris", None),
        ),
        ({"city": {"names": {"fr": "Paris"}}, "country": {"names": {}}}, Location()),
        (None, Location()),
        ("not a record", Location()),
        ({"isp": "x" * 500}, Location(None, None, None, "x" * 200)),
    ],
)
def test_record_layouts(record: object, expected: Location) -> None:
    assert location_of_record(record) == expected


@pytest.mark.parametrize("kind", ["missing", "corrupt"])
async def test_an_unusable_database_is_reported_once_and_the_bundled_data_used(
    tmp_path: Path, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / f"{kind}.mmdb"
    if kind == "corrupt":
        path.write_bytes(b"this is not a MaxMind database" * 100)
    geo = GeoIp(path)
    with caplog.at_level(logging.ERROR, logger="frontdesk.channels.web.geo"):
        first = geo.lookup("8.8.8.8")
        second = geo.lookup("1.1.1.1")
    assert first.country_code == "US" and second.country_code == "AU"
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "FRONTDESK_GEOIP_DB" in errors[0].getMessage()


async def test_the_bundled_data_resolves_public_addresses(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}", tmp_path)
    assert settings.geoip_db is None
    google = await describe_client(settings, "8.8.8.8", None, None)
    assert (google.ip, google.country_code, google.country, google.city) == (
        "8.8.8.8",
        "US",
        "United States",
        None,
    )
    assert google.isp is not None and "GOOGLE" in google.isp.upper()
    ipv6 = await describe_client(settings, "2001:4860:4860::8888", None, None)
    assert ipv6.country_code == "US"
    for local in (
        "127.0.0.1",
        "10.0.0.8",
        "172.16.4.4",
        "192.168.1.1",
        "100.64.0.1",
        "::1",
        "fe80::1",
        "fd00::1",
    ):
        facts = await describe_client(settings, local, None, None)
        assert (facts.country_code, facts.city, facts.isp) == (None, None, None), local
    mapped = await describe_client(settings, "::ffff:8.8.8.8", None, None)
    assert (mapped.ip, mapped.country_code) == ("8.8.8.8", "US")
    # One reader per database, per process.
    assert geoip_for(None) is geoip_for(None)


MISSING_DB = Path(tempfile.mkdtemp(prefix="frontdesk-geo-missing-")) / "not-there.mmdb"


@pytest.mark.parametrize("server", [{"geoip_db": MISSING_DB}], indirect=True)
async def test_a_missing_database_is_reported_when_the_server_starts(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    # The server fixture has started the app; the error was logged then, before any visitor.
    started = caplog.get_records("setup")
    errors = [r for r in started if r.levelno == logging.ERROR and r.name == "frontdesk.channels.web.geo"]
    assert len(errors) == 1 and str(MISSING_DB) == getattr(errors[0], "path", None)
    # Serving goes on, with the bundled data.
    facts = await describe_client(server.services.settings, "8.8.8.8", None, None)
    assert facts.country_code == "US"
