"""Rules for what agents and API clients may store on a contact."""

from __future__ import annotations

from typing import Any

import orjson

from frontdesk.domain.errors import InvalidInput

__all__ = ["MAX_ATTRIBUTES", "MAX_ATTRIBUTE_KEY", "MAX_ATTRIBUTE_VALUE", "check_attributes"]

# Attributes are shown in the contact panel and copied into every contact event: a handful of
# short facts (plan, customer number, company), not a document store.
MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_KEY = 100  # characters
MAX_ATTRIBUTE_VALUE = 2000  # characters of the value written as JSON


def check_attributes(attributes: dict[str, Any]) -> None:
    """Refuses, naming the field, attributes beyond the bounds above or with an empty key."""
    if len(attributes) > MAX_ATTRIBUTES:
        raise InvalidInput(
            f"attributes: at most {MAX_ATTRIBUTES} keys, not {len(attributes)}", field="attributes"
        )
    for key, value in attributes.items():
        if not key.strip():
            raise InvalidInput("attributes: a key must not be empty", field="attributes")
        if len(key) > MAX_ATTRIBUTE_KEY:
            raise InvalidInput(
                f"attributes: a key is longer than {MAX_ATTRIBUTE_KEY} characters", field="attributes"
            )
        size = len(orjson.dumps(value).decode())
        if size > MAX_ATTRIBUTE_VALUE:
            raise InvalidInput(
                f"attributes.{key}: the value is longer than {MAX_ATTRIBUTE_VALUE} characters "
                f"(as JSON: {size})",
                field=f"attributes.{key}",
            )
