"""The name a website visitor gets before they give one (PRODUCT W2): agents tell visitors apart
by city and number instead of a list of identical "Website visitor" rows."""

from __future__ import annotations

NAME_LIMIT = 200


def generated_name(contact_id: int, city: str | None) -> str:
    """`<City> <contact id>` when the city is known, else `Customer <contact id>`. Stored data,
    like any contact name, so it is not translated."""
    city = " ".join((city or "").split())
    return f"{city or 'Customer'} {contact_id}"[:NAME_LIMIT]
