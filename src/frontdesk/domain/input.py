"""What every piece of outside input must satisfy before it reaches the database.

- Integers are 64-bit: both databases store ids and counters as BIGINT, and a larger number
  makes the driver fail instead of matching nothing. `Id` bounds every id a request carries.
- Text never holds NUL (U+0000): PostgreSQL cannot store it in a text or JSON column.
  Customer content (a provider's webhook, a mail, the widget) is never refused for it:
  `clean` replaces it with U+FFFD. What agents and API clients send is refused instead
  (`refuse_unstorable`, applied to every request body in http/api/models.py), naming the field.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Annotated, Any, TypeGuard, TypeVar

from annotated_types import Interval
from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "Id",
    "Omittable",
    "clean",
    "has_nul",
    "has_unstorable_number",
    "is_id",
    "refuse_unstorable",
]

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
NUL = "\x00"
REPLACEMENT = "\ufffd"

# Annotated constraints rather than a pydantic Field, so the same type serves path and query
# parameters, body fields and list items alike.
Id = Annotated[int, Interval(ge=INT64_MIN, le=INT64_MAX)]

T = TypeVar("T")


def is_id(value: object) -> TypeGuard[int]:
    """Whether a value read from a JSON frame is an integer a BIGINT column can hold (JSON
    parsers give any size, and a bool is an int in Python)."""
    return isinstance(value, int) and not isinstance(value, bool) and INT64_MIN <= value <= INT64_MAX


def clean(value: T) -> T:
    """`value` with every NUL in its text replaced by U+FFFD: strings, and the strings inside
    lists, tuples, dicts (keys too) and dataclasses (such as the inbound events)."""
    if not has_nul(value):
        return value  # the common case: nothing copied
    return _clean(value)  # type: ignore[no-any-return]  # same shape in, same shape out


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace(NUL, REPLACEMENT) if NUL in value else value
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_clean(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _clean(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **changes)
    return value


def has_nul(value: Any) -> bool:
    """Whether NUL occurs in a string or in any string inside lists, dicts (keys too) and
    dataclasses."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_nul(v) for v in value)
    names = _field_names(type(value))
    if names:
        return any(has_nul(getattr(value, name)) for name in names)
    return False


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    """A dataclass's field names, looked up once per class (`clean` runs on every inbound
    event, and `dataclasses.fields` showed in the ingest profile); empty for any other class."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        fields = dataclasses.fields(cls) if dataclasses.is_dataclass(cls) else ()
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields)
    return names


def has_unstorable_number(value: Any) -> bool:
    """Whether an integer outside 64 bits, or an infinite or NaN float (JSON has neither;
    PostgreSQL's jsonb refuses them), occurs in the value or inside its lists and dicts."""
    if isinstance(value, int):
        return not INT64_MIN <= value <= INT64_MAX
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(has_unstorable_number(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(has_unstorable_number(v) for v in value)
    return False


def refuse_unstorable(value: T) -> T:
    """A pydantic validator for what agents and API clients send: refuses NUL anywhere in the
    text, and numbers beyond 64 bits or not finite inside free-form values (typed ids carry
    `Id`)."""
    if has_nul(value):
        raise PydanticCustomError("nul_character", "must not contain the NUL character (U+0000)")
    if has_unstorable_number(value):
        raise PydanticCustomError("unstorable_number", "numbers must be finite and fit in 64 bits")
    return value


def _not_null(value: Any) -> Any:
    if value is None:
        raise PydanticCustomError("null_not_allowed", "may be left out, but not null")
    return value


def _schema_without_null(schema: dict[str, Any]) -> None:
    if schema.get("default", ...) is None:
        del schema["default"]  # leaving the field out is how a client keeps the value
    branches = schema.get("anyOf")
    if isinstance(branches, list):
        kept = [b for b in branches if b != {"type": "null"}]
        if len(kept) == 1:
            del schema["anyOf"]
            schema.update(kept[0])
        else:
            schema["anyOf"] = kept


# A field of a partial update that may be left out (None in Python: unchanged) but not sent as
# null: null would otherwise mean "keep" in one place and be stored where a value is expected
# in another. The JSON schema shows only T, which is all a client may send. (Kept a plain
# optional underneath so validation errors keep the field's own path.)
Omittable = Annotated[T | None, BeforeValidator(_not_null), Field(json_schema_extra=_schema_without_null)]
